// Templates over rows (docs/templates.md), without a server: CSV edge cases (quoted commas, embedded newlines, BOM,
// CRLF), JSONL rows, the key column, and located errors for a missing column, a missing or duplicate key and a bad
// template, all through prepareInput as `sluice run ROWS --template FILE` uses it. Nothing is stored when refused.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prepareInput } from '../src/client/prepare-input';
import { readTemplateFile } from '../src/client/template-file';
import { templateLines } from '../src/client/template-input';
import { InputError } from '../src/domain/errors';
import { jobKeys, type NormalizedRequest } from '../src/domain/job';
import { LocalDirectoryStore } from '../src/store/local-store';
import { sluice } from './helpers/cli';

let dir: string;
let store: LocalDirectoryStore;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-template-'));
  store = new LocalDirectoryStore(path.join(dir, 'store'));
});
after(() => rm(dir, { recursive: true, force: true }));

let jobs = 0;
async function run(rows: { name: string; text: string }, template: string, opts: { idColumn?: string; pack?: number } = {}) {
  const rowsFile = path.join(dir, `${jobs}-${rows.name}`);
  const templateFile = path.join(dir, `${jobs}-prompt.md`);
  await writeFile(rowsFile, rows.text);
  await writeFile(templateFile, template);
  const jobId = `job-${jobs++}`;
  const t = await readTemplateFile(templateFile);
  const prepared = await prepareInput({
    file: rowsFile,
    jobId,
    store,
    defaults: { model: 'claude-haiku-5-5', max_tokens: 100, ...t.defaults },
    lines: templateLines({ rowsFile, template: t.template, ...opts, maxLineBytes: 1_000_000 }),
  });
  const requests: NormalizedRequest[] = [];
  for await (const line of store.readLines(prepared.inputKey)) requests.push(JSON.parse(line) as NormalizedRequest);
  return { requests, jobId, rowsFile, templateFile };
}
const prompt = (r: NormalizedRequest) => (r.params.messages[0] as { content: string }).content;

async function refused(rows: { name: string; text: string }, template: string, opts: { idColumn?: string; pack?: number } = {}) {
  const jobId = `job-${jobs}`;
  const err = await run(rows, template, opts).then(
    () => assert.fail('expected the input to be refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InputError, String(err));
  assert.equal(await store.exists(jobKeys.input(jobId)), false, 'nothing is stored for a refused input');
  return err;
}

const FRONT = '---\nmodel: claude-haiku-5-5\nsystem: You review.\n---\n';

describe('CSV rows', () => {
  test('quoted commas, an embedded newline, a BOM and CRLF: each row one request with its own key and line', async () => {
    const csv = '\uFEFFid,title,text\r\nr1,"Good, really","Line one\r\nline two"\r\n\r\nr2,Plain,"She said ""fine"""\r\n';
    const { requests } = await run({ name: 'rows.csv', text: csv }, `${FRONT}Title: {{title}}\n{{text}}\n`);
    assert.deepEqual(requests.map((r) => [r.custom_id, r.line]), [['r1', 2], ['r2', 5]]);
    assert.equal(prompt(requests[0]!), 'Title: Good, really\nLine one\r\nline two\n');
    assert.equal(prompt(requests[1]!), 'Title: Plain\nShe said "fine"\n');
    assert.equal(requests[0]!.params.model, 'claude-haiku-5-5');
    assert.equal(requests[0]!.params.system, 'You review.');
  });

  test('a row lacking a placeholder\'s column is a located error naming the template line; nothing is stored', async () => {
    const csv = 'id,title,text\nr1,A,x\nr2,B\n';
    const err = await refused({ name: 'rows.csv', text: csv }, 'Review.\n\nTitle: {{title}}\n{{text}}\n');
    assert.equal(err.issues.length, 1);
    const [issue] = err.issues;
    assert.equal(issue!.line, 3);
    assert.equal(issue!.field, 'column "text"');
    assert.match(issue!.reason, /^missing, used by .*-prompt\.md:4$/);
    assert.match(err.message, /rows\.csv:3: column "text": missing, used by .*prompt\.md:4/);
  });

  test('a missing or duplicate key is a located error', async () => {
    const csv = 'sku,title\nA1,x\n,y\nA1,z\n';
    const err = await refused({ name: 'rows.csv', text: csv }, '{{title}}', { idColumn: 'sku' });
    assert.deepEqual(err.issues.map((i) => [i.line, i.field]), [[3, 'column "sku"'], [4, 'column "sku"']]);
    assert.match(err.issues[0]!.reason, /^missing/);
    assert.match(err.issues[1]!.reason, /duplicate key "A1", first on line 2/);
  });

  test('without an id or custom_id column, ids are derived from the row\'s place', async () => {
    const { requests } = await run({ name: 'rows.csv', text: 'title\nx\ny\n' }, '{{title}}');
    assert.deepEqual(requests.map((r) => r.custom_id), ['req-0000000', 'req-0000001']);
  });

  test('an unclosed quote is a located error', async () => {
    const err = await refused({ name: 'rows.csv', text: 'id,title\nr1,"open\nr2,x\n' }, '{{title}}');
    assert.match(err.issues[0]!.reason, /not valid CSV: a quoted field is never closed/);
  });
});

describe('JSONL rows', () => {
  test('objects of fields; numbers become text; custom_id is the default key column', async () => {
    const jsonl = '{"custom_id": "a", "title": "T1", "stars": 4}\n\n{"custom_id": "b", "title": "T2", "stars": 1}\n';
    const { requests } = await run({ name: 'rows.jsonl', text: jsonl }, `${FRONT}{{title}} ({{stars}} stars)`);
    assert.deepEqual(requests.map((r) => [r.custom_id, r.line, prompt(r)]), [['a', 1, 'T1 (4 stars)'], ['b', 3, 'T2 (1 stars)']]);
  });

  test('a null field is missing', async () => {
    const err = await refused({ name: 'rows.jsonl', text: '{"id": "a", "title": null}\n' }, '{{title}}');
    assert.equal(err.issues[0]!.field, 'column "title"');
  });
});

describe('templates', () => {
  test('bad templates are located in the template file', async () => {
    const file = path.join(dir, 'bad.md');
    await writeFile(file, '---\nmodel: claude-haiku-5-5\ncolour: red\n---\nHello {{t}}\n{{#each}}\n{{@n}}\n');
    const err = await readTemplateFile(file).then(() => assert.fail('refused'), (e: unknown) => e as InputError);
    assert.deepEqual(err.issues.map((i) => [i.line, i.field ?? '', i.reason.slice(0, 30)]), [
      [3, 'colour', 'is not a front matter key; use'],
      [6, '', '{{#each}} is never closed by {'],
    ]);
  });

  test('`sluice run`: --pack without --template, and a template whose columns are outside the block, are refused before connecting', async () => {
    const rowsFile = path.join(dir, 'cli-rows.csv');
    const templateFile = path.join(dir, 'cli-prompt.md');
    await writeFile(rowsFile, 'id,t\na,x\n');
    await writeFile(templateFile, 'About {{t}}:\n{{#each}}\n{{@n}}. {{t}}\n{{/each}}\n');
    // No Temporal server at this address: the flags are checked first.
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', SLUICE_STORE_DIR: path.join(dir, 'cli-store') };
    const noTemplate = await sluice(['run', rowsFile, '--pack', '2'], env);
    assert.equal(noTemplate.code, 2, noTemplate.out);
    assert.match(noTemplate.out, /--pack needs --template/);
    const outside = await sluice(['run', rowsFile, '--template', templateFile, '--pack', '2'], env);
    assert.equal(outside.code, 2, outside.out);
    assert.match(outside.out, /cli-prompt\.md:1: \{\{t\}\} is outside the \{\{#each\}\} block/);
  });

  test('--pack: N rows per prompt, numbered, asking for a JSON array; each row keeps its single-row prompt', async () => {
    const csv = 'id,title\nr1,A\nr2,B\nr3,C\n';
    const { requests } = await run({ name: 'rows.csv', text: csv }, 'Rate these.\n{{#each}}\n{{@n}}. {{title}}\n{{/each}}', { pack: 2 });
    assert.equal(requests.length, 2);
    assert.deepEqual(requests.map((r) => r.pack!.map((row) => row.custom_id)), [['r1', 'r2'], ['r3']]);
    assert.match(prompt(requests[0]!), /^Rate these\.\n1\. A\n2\. B\n\nAnswer each of the 2 items above\. Reply with only a JSON array of exactly 2 elements/);
    assert.equal((requests[0]!.pack![1]!.params.messages[0] as { content: string }).content, 'Rate these.\n1. B\n');
    assert.equal(requests[1]!.line, 4);
  });
});
