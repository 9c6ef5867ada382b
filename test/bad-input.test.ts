// The bad-input corpus (test/fixtures/bad-input/, expectations in expected.json): every kind of bad file is
// refused with the exact issues (line, field, reason), both by prepareInput and by `sluice run` (exit code 2,
// `file:line: field: reason`, "Nothing was sent."), and nothing reaches the API or Temporal. The CLI runs the corpus
// in one host process (test/helpers/cli-host.ts: its modules load once, not sixty times); one case also runs as its
// own `sluice` process, which must say exactly the same.
// Files that are odd but good (BOM, CRLF, blank lines, ...) are accepted. Large, binary and non-UTF-8 files are
// generated into a temporary directory instead of being committed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { readModelCatalog } from '../src/anthropic/model-catalog';
import { prepareInput } from '../src/client/prepare-input';
import type { ModelCatalog } from '../src/domain/models';
import { InputError, LISTED_ISSUES } from '../src/domain/errors';
import { jobKeys, type NormalizedRequest } from '../src/domain/job';
import type { InputIssue } from '../src/domain/request';
import { LocalDirectoryStore } from '../src/store/local-store';
import { startCliHost, type CliHost } from './helpers/cli-host';
import { startStack, type TestStack } from './helpers/stack';
import { uniqueTaskQueue } from './helpers/temporal';

const ROOT = path.join(__dirname, '..');
const CORPUS = path.join(__dirname, 'fixtures', 'bad-input');

interface ExpectedIssue {
  line: number;
  field?: string;
  reason?: string;
  reasonStartsWith?: string;
  reasonEndsWith?: string;
}
interface Case {
  kind: string;
  issues?: ExpectedIssue[];
  requests?: [string, number][];
  /** Job defaults instead of the manifest's (the CLI then gets no --model/--max-tokens). */
  defaults?: Record<string, unknown>;
  maxRequestBytes?: number;
  /** false: only through prepareInput (the CLI has no flag for the limit). */
  cli?: boolean;
  /** Good files: the model of each request whose line names its own (the others get the default). */
  models?: Record<string, string>;
}
interface Manifest {
  defaults: { model: string; max_tokens: number };
  bad: Record<string, Case>;
  good: Record<string, Case>;
  generated: Record<string, Case>;
}
const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'expected.json'), 'utf8')) as Manifest;
// More kinds, each group in its own expected-<group>.json (fewer merge conflicts): merged into one manifest.
for (const extra of readdirSync(CORPUS).filter((f) => /^expected-.+\.json$/.test(f))) {
  const more = JSON.parse(readFileSync(path.join(CORPUS, extra), 'utf8')) as Partial<Manifest>;
  Object.assign(manifest.bad, more.bad);
  Object.assign(manifest.good, more.good);
  Object.assign(manifest.generated, more.generated);
}

/** Prompt text of the corpus: never in an issue or in the CLI's output. */
const PROMPT_TEXTS = ['Say hello', 'lorem ipsum', 'café', 'Summarise'];

const req = (cid: string, content: string) =>
  JSON.stringify({ custom_id: cid, params: { messages: [{ role: 'user', content }] } });

/** Files too big, binary or not UTF-8 to commit. */
const GENERATORS: Record<string, (file: string) => Promise<void>> = {
  'huge-single-line.jsonl': async (file) => {
    const head = '{"custom_id":"huge","params":{"messages":[{"role":"user","content":"';
    const tail = '"}]}}';
    const out = createWriteStream(file);
    let left = 256_001_000 - head.length - tail.length;
    out.write(head);
    const chunk = 'x'.repeat(1 << 20);
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.slice(0, left);
      left -= piece.length;
      if (!out.write(piece)) await once(out, 'drain');
    }
    out.end(tail + '\n');
    await once(out, 'finish');
  },
  'binary.jsonl': (file) =>
    writeFile(file, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0xd8])),
  'latin1.jsonl': (file) =>
    writeFile(file, Buffer.concat([Buffer.from(req('a', 'Say hello.') + '\n'), Buffer.from(req('b', "Un café, s'il vous plaît.") + '\n', 'latin1')])),
  'utf16.jsonl': (file) => writeFile(file, Buffer.from('\uFEFF' + req('a', 'Say hello.') + '\n' + req('b', 'Say hello.') + '\n', 'utf16le')),
  'nul-byte.jsonl': (file) => writeFile(file, req('a', 'Say\u0000hello.').replace('\\u0000', '\u0000') + '\n'),
  'terminal-escapes.jsonl': (file) => writeFile(file, '\u001b[2J\u001b[31mnot json\n' + req('a', 'Say hello.') + '\n'),
};

function assertIssues(actual: InputIssue[], expected: ExpectedIssue[], name: string) {
  assert.equal(actual.length, expected.length, `${name}: ${JSON.stringify(actual)}`);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    const where = `${name}, issue ${i + 1}: ${JSON.stringify(a)}`;
    assert.equal(a.line, e.line, where);
    assert.equal(a.field, e.field, where);
    if (e.reason !== undefined) assert.equal(a.reason, e.reason, where);
    if (e.reasonStartsWith !== undefined) assert.ok(a.reason.startsWith(e.reasonStartsWith), where);
    if (e.reasonEndsWith !== undefined) assert.ok(a.reason.endsWith(e.reasonEndsWith), where);
  });
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sluice(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('the bad-input corpus', () => {
  let stack: TestStack;
  let running: Promise<void>;
  let genDir: string;
  let scratch: LocalDirectoryStore;
  let models: ModelCatalog;
  let host: CliHost;
  const fileOf = (name: string) => (name in manifest.generated ? path.join(genDir, name) : path.join(CORPUS, name));
  const badCases = () => Object.entries({ ...manifest.bad, ...manifest.generated });

  before(async () => {
    stack = await startStack();
    // A worker polls the task queue the CLI would start jobs on: anything started by mistake would reach the API.
    running = (await stack.startWorker()).run();
    genDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bad-input-'));
    for (const [name, generate] of Object.entries(GENERATORS)) await generate(path.join(genDir, name));
    scratch = new LocalDirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'sluice-bad-input-store-')));
    // The account's models, as `sluice run` reads them when it has a key (the emulator serves the Models API).
    models = await readModelCatalog(new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url }));
    host = await startCliHost();
  });
  after(async () => {
    await host?.close();
    await stack.close();
    await running;
    await rm(genDir, { recursive: true, force: true });
  });

  test('the corpus has at least 25 kinds of bad input, each with its expectation', () => {
    assert.ok(badCases().length >= 25, `${badCases().length} kinds`);
    assert.deepEqual(Object.keys(manifest.generated).sort(), Object.keys(GENERATORS).sort());
    for (const [name, c] of badCases()) assert.ok(c.issues && c.issues.length > 0 && c.kind, name);
  });

  for (const [name, c] of [...Object.entries(manifest.bad), ...Object.entries(manifest.generated)]) {
    test(`prepareInput refuses ${name} (${c.kind})`, async () => {
      const jobId = `bad-${name}`;
      let thrown: unknown;
      try {
        await prepareInput({ file: fileOf(name), jobId, store: scratch, defaults: c.defaults ?? manifest.defaults, maxRequestBytes: c.maxRequestBytes, models });
      } catch (err) {
        thrown = err;
      }
      assert.ok(thrown instanceof InputError, `${name}: expected an InputError, got ${String(thrown)}`);
      assertIssues(thrown.issues, c.issues!, name);
      assert.equal(await scratch.exists(jobKeys.input(jobId)), false, 'nothing left in the store');
      for (const text of PROMPT_TEXTS) assert.ok(!thrown.message.includes(text), `${name}: prompt text in the message`);
    });
  }

  for (const [name, c] of Object.entries(manifest.good)) {
    test(`prepareInput accepts ${name} (${c.kind})`, async () => {
      const prepared = await prepareInput({ file: fileOf(name), jobId: `good-${name}`, store: scratch, defaults: manifest.defaults, models });
      const stored: NormalizedRequest[] = [];
      for await (const l of scratch.readLines(prepared.inputKey)) stored.push(JSON.parse(l) as NormalizedRequest);
      assert.deepEqual(stored.map((r) => [r.custom_id, r.line]), c.requests);
      for (const r of stored) assert.equal(r.params.model, c.models?.[r.custom_id] ?? manifest.defaults.model);
    });
  }

  test('good-extra-params-fields.jsonl passes the unchecked fields through untouched', async () => {
    const prepared = await prepareInput({ file: fileOf('good-extra-params-fields.jsonl'), jobId: 'extra', store: scratch, defaults: manifest.defaults });
    for await (const l of scratch.readLines(prepared.inputKey)) {
      const { params } = JSON.parse(l) as NormalizedRequest;
      assert.deepEqual(Object.keys(params).sort(), ['max_tokens', 'messages', 'metadata', 'model', 'stop_sequences', 'stream', 'tools', 'top_k']);
      assert.equal(params.stream, false);
    }
  });

  test('with --skip-invalid, a rejected line does not shift the derived ids of the lines after it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-skip-'));
    const line = (content: string) => JSON.stringify({ params: { messages: [{ role: 'user', content }] } });
    const file = path.join(dir, 'input.jsonl');
    await writeFile(file, [line('one'), 'not json', line('three'), JSON.stringify({ params: {} }), line('five')].join('\n') + '\n');
    const prepared = await prepareInput({ file, jobId: 'skip', store: scratch, defaults: manifest.defaults, skipInvalid: true });
    const stored: NormalizedRequest[] = [];
    for await (const l of scratch.readLines(prepared.inputKey)) stored.push(JSON.parse(l) as NormalizedRequest);
    // The ids a fixed file would give the same lines: the index among non-blank lines, bad ones included.
    assert.deepEqual(stored.map((r) => [r.custom_id, r.line]), [['req-0000000', 1], ['req-0000002', 3], ['req-0000004', 5]]);
  });

  test('`sluice run` refuses each bad file: exit code 2, file:line: field: reason, nothing sent', { timeout: 900_000 }, async () => {
    const env = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      SLUICE_TASK_QUEUE: stack.taskQueue,
      SLUICE_STORE_DIR: stack.storeDir,
      SLUICE_WEB_UI: 'http://127.0.0.1:8233',
      ANTHROPIC_API_KEY: stack.emulator.apiKey,
      ANTHROPIC_BASE_URL: stack.emulator.url,
    };
    const cases = badCases().filter(([, c]) => c.cli !== false);
    const argsOf = (name: string, c: Case) => {
      const flags = Object.entries(c.defaults ?? manifest.defaults).flatMap(([k, v]) => [k === 'max_tokens' ? '--max-tokens' : `--${k}`, String(v)]);
      return ['run', fileOf(name), ...flags];
    };
    const runs: { name: string; c: Case; run: CliRun }[] = [];
    for (const [name, c] of cases) runs.push({ name, c, run: await host.run(argsOf(name, c), env) });
    // The host says what a `sluice` process of its own says, exit code included.
    const [firstName, firstCase] = cases.find(([, c]) => c.issues!.length > 1) ?? cases[0]!;
    assert.deepEqual(await sluice(argsOf(firstName, firstCase), env), runs.find((r) => r.name === firstName)!.run, firstName);
    for (const { name, c, run } of runs) {
      const file = fileOf(name);
      const out = `${name}:\n${run.stderr}`;
      assert.equal(run.code, 2, out);
      assert.equal(run.stdout, '', out);
      const lines = run.stderr.split('\n');
      assert.ok(lines.includes('Nothing was sent.'), out);
      const issueLines = c.issues!.length;
      assert.match(run.stderr, new RegExp(`bad line|is empty|every line`), out);
      for (const e of c.issues!.slice(0, LISTED_ISSUES)) {
        const head = `  ${file}:${e.line}: ${e.field === undefined ? '' : `${e.field}: `}`;
        const shown = lines.find((l) => l.startsWith(head) && (e.reason === undefined || l === head + e.reason) && (e.reasonStartsWith === undefined || l.startsWith(head + e.reasonStartsWith)));
        // An empty file has no issue list: the headline carries the one reason.
        const headline = lines[0] === `${file}: 1 bad line (1 issue)` && lines[1] === `  ${file}:${e.line}: ${e.reason}`;
        assert.ok(shown !== undefined || headline, `${out}\nmissing: ${head}${e.reason ?? e.reasonStartsWith ?? ''}`);
      }
      if (issueLines > LISTED_ISSUES) assert.ok(lines.includes(`  ... and ${issueLines - LISTED_ISSUES} more`), out);
      // eslint-disable-next-line no-control-regex -- the point: no raw control character reaches the terminal
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(run.stderr), `${name}: a raw control character in the output`);
      for (const text of PROMPT_TEXTS) assert.ok(!run.stderr.includes(text), `${name}: prompt text in the output`);
    }

    const stats = stack.emulator.stats();
    assert.equal(stats.calls.create, 0, 'no batch created');
    assert.deepEqual(stats.submissions, {}, 'no request submitted');
    assert.deepEqual(await stack.store.list('jobs/'), [], 'no input left in the store');
    const started: string[] = [];
    for await (const w of stack.env.client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}'` })) started.push(w.workflowId);
    assert.deepEqual(started, [], 'no workflow started');
  });

  test('`sluice run --detach` accepts a good file with a BOM, CRLF and no final newline', { timeout: 60_000 }, async () => {
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-good-'));
    const taskQueue = uniqueTaskQueue('good-unpolled'); // nobody polls it: the job is started, never run
    const name = 'good-bom-crlf-no-final-newline.jsonl';
    const run = await sluice(['run', fileOf(name), '--model', manifest.defaults.model, '--max-tokens', '16', '--detach'], {
      TEMPORAL_ADDRESS: stack.env.address,
      SLUICE_TASK_QUEUE: taskQueue,
      SLUICE_STORE_DIR: storeDir,
    });
    assert.equal(run.code, 0, run.stderr);
    const workflowId = run.stdout.trim();
    assert.match(run.stderr, new RegExp(`Started ${workflowId}: 2 requests`));
    const handle = stack.env.client.workflow.getHandle(workflowId);
    assert.equal((await handle.describe()).taskQueue, taskQueue);
    const stored: NormalizedRequest[] = [];
    for await (const l of new LocalDirectoryStore(storeDir).readLines(jobKeys.input(workflowId))) stored.push(JSON.parse(l) as NormalizedRequest);
    assert.deepEqual(stored.map((r) => [r.custom_id, r.line]), manifest.good[name]!.requests);
    await handle.terminate('test over');
  });
});
