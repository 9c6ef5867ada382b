// One input checker: the same file read by `sluice run` (prepareInput) and by an audit's snapshot (snapshotInput)
// gives the same requests, the same derived custom_ids (also after bad lines) and the same located errors. No server.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readIntakeFile } from '../src/client/intake-input';
import { prepareInput } from '../src/client/prepare-input';
import { snapshotInput } from '../src/client/snapshot-input';
import { InputError } from '../src/domain/errors';
import type { InputIssue } from '../src/domain/input-issue';
import { jobKeys, type NormalizedRequest } from '../src/domain/job';
import { LocalDirectoryStore } from '../src/store/local-store';

const ok = (id?: string, text = 'x') =>
  JSON.stringify({ ...(id ? { custom_id: id } : {}), params: { messages: [{ role: 'user', content: text }] } });
const defaults = { model: 'claude-haiku-4-5', max_tokens: 16 };
const MAX_REQUEST_BYTES = 2_000;

/** Every kind of bad line, with lines without a custom_id before and after each. */
async function mixedFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-check-'));
  const file = path.join(dir, 'mixed.jsonl');
  const lines: (string | Buffer)[] = [
    ok(), //                                         1: req-0000000
    'not json', //                                   2: bad JSON (index 1)
    '', //                                           3: blank, no index
    ok(), //                                         4: req-0000002
    JSON.stringify({ params: { messages: [] } }), // 5: a field error (index 3)
    ok('user-1'), //                                 6
    ok('user-1'), //                                 7: duplicate
    ok(undefined, 'y'.repeat(MAX_REQUEST_BYTES * 2)), // 8: too long (index 6)
    Buffer.from([0xff, 0xfe, 0x41]), //              9: not UTF-8 (index 7)
    ok('req-0000009'), //                           10: takes the id line 11 would derive
    ok(), //                                        11: derived req-0000009, a duplicate of line 10
    ok(), //                                        12: req-0000010
    '{"params": {', //                              13: cut short, no newline after it
  ];
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    parts.push(typeof l === 'string' ? Buffer.from(l) : l);
    if (i < lines.length - 1) parts.push(Buffer.from('\n'));
  });
  await writeFile(file, Buffer.concat(parts));
  return file;
}

async function readAll<T>(store: LocalDirectoryStore, key: string): Promise<T[]> {
  const out: T[] = [];
  for await (const text of store.readLines(key)) out.push(JSON.parse(text) as T);
  return out;
}

async function freshStore() {
  return new LocalDirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'sluice-check-store-')));
}

test('a run and an audit of the same file derive the same custom_ids and store the same requests', async () => {
  const file = await mixedFile();
  const runStore = await freshStore();
  const run = await prepareInput({ file, jobId: 'run', store: runStore, defaults, maxRequestBytes: MAX_REQUEST_BYTES, skipInvalid: true });
  const auditStore = await freshStore();
  const audit = await snapshotInput({ input: file, jobId: 'audit', store: auditStore, defaults, maxRequestBytes: MAX_REQUEST_BYTES });

  const runRequests = await readAll<NormalizedRequest>(runStore, jobKeys.input('run'));
  const auditRequests = await readAll<NormalizedRequest>(auditStore, jobKeys.input('audit'));
  assert.deepEqual(
    runRequests.map((r) => [r.line, r.custom_id]),
    [
      [1, 'req-0000000'],
      [4, 'req-0000002'],
      [6, 'user-1'],
      [10, 'req-0000009'],
      [12, 'req-0000010'],
    ],
    'a derived id is the index among non-blank lines, bad ones included',
  );
  assert.deepEqual(auditRequests, runRequests, 'the audit stores what the run stores');
  assert.equal(run.requestCount, 5);
  assert.equal(audit.requestCount, 5);
  assert.equal(run.rejected, 7);
  assert.equal(audit.rejected, 7);
});

test('a run and an audit of the same file report the same problems at the same lines', async () => {
  const file = await mixedFile();
  const refused = await prepareInput({ file, jobId: 'strict', store: await freshStore(), defaults, maxRequestBytes: MAX_REQUEST_BYTES }).then(
    () => assert.fail('a file with bad lines is refused'),
    (err: unknown) => err,
  );
  assert.ok(refused instanceof InputError);

  const auditStore = await freshStore();
  await snapshotInput({ input: file, jobId: 'audit', store: auditStore, defaults, maxRequestBytes: MAX_REQUEST_BYTES });
  const rejects = await readAll<{ file: string; line: number; issues: InputIssue[] }>(auditStore, jobKeys.rejects('audit'));
  assert.ok(rejects.every((r) => r.file === file && r.issues.every((i) => i.line === r.line)), 'each reject names its file and line');
  assert.deepEqual(rejects.flatMap((r) => r.issues), refused.issues, 'the same issues, in the same order');

  const lines = [...new Set(refused.issues.map((i) => i.line))];
  assert.deepEqual(lines, [2, 5, 7, 8, 9, 11, 13]);
  const reasonAt = (line: number) => refused.issues.filter((i) => i.line === line).map((i) => `${i.field ?? ''} ${i.reason}`).join('; ');
  assert.match(reasonAt(2), /not valid JSON/);
  assert.match(reasonAt(7), /duplicate custom_id "user-1", first used on line 6/);
  assert.match(reasonAt(8), /over the request limit of 2,000/);
  assert.match(reasonAt(9), /not valid UTF-8/);
  assert.match(reasonAt(11), /derived id "req-0000009" is already the custom_id of line 10/);
  assert.match(reasonAt(13), /was the file cut short\?/);
  assert.match(refused.message, new RegExp(`${path.basename(file)}.*7 bad lines`));
});

const PARAMS = { messages: [{ role: 'user', content: 'x' }] };

test('an intake and a run of the same file report the same problems for the rules they share', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-check-intake-'));
  const file = path.join(dir, 'tickets.jsonl');
  const lines: (string | Buffer)[] = [
    ok('t-1'), //                                                          1: good for both
    'not json', //                                                         2: bad JSON
    '[1, 2]', //                                                           3: not an object
    JSON.stringify({ custom_id: 't-4', params: { messages: [] } }), //    4: a field error
    ok('t-1'), //                                                          5: duplicate of line 1
    ok('t-6', 'y'.repeat(MAX_REQUEST_BYTES * 2)), //                      6: too long
    Buffer.from([0xff, 0xfe, 0x41]), //                                    7: not UTF-8
    '{"custom_id": "t-8", "custom_id": "t-9", "params": {}}', //          8: a key twice
    JSON.stringify({ custom_id: 't-10', params: PARAMS, colour: 'red' }), // 9: an unknown field
    JSON.stringify({ custom_id: 't-11', params: PARAMS, tier: 'bulk' }), // 10: an intake's field
    ok(), //                                                               11: no custom_id
    '{"custom_id": "t-12", "params": {', //                               12: cut short, no newline after it
  ];
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    parts.push(typeof l === 'string' ? Buffer.from(l) : l);
    if (i < lines.length - 1) parts.push(Buffer.from('\n'));
  });
  await writeFile(file, Buffer.concat(parts));

  const refused = await prepareInput({ file, jobId: 'run', store: await freshStore(), defaults, maxRequestBytes: MAX_REQUEST_BYTES }).then(
    () => assert.fail('a file with bad lines is refused'),
    (err: unknown) => err,
  );
  assert.ok(refused instanceof InputError);
  const intake = await readIntakeFile({ file, defaults, maxRequestBytes: MAX_REQUEST_BYTES });

  const shared = [2, 3, 4, 5, 6, 7, 8, 12];
  const at = (issues: InputIssue[], wanted: number[]) => issues.filter((i) => wanted.includes(i.line));
  assert.deepEqual(at(intake.issues, shared), at(refused.issues, shared), 'the same issues, in the same order, for the shared rules');
  assert.equal(new Set(at(intake.issues, shared).map((i) => i.line)).size, shared.length, 'each shared bad line is reported');
  const reasonAt = (issues: InputIssue[], line: number) => at(issues, [line]).map((i) => `${i.field ?? ''}: ${i.reason}`).join('; ');
  assert.match(reasonAt(intake.issues, 5), /duplicate custom_id "t-1", first used on line 1/);
  assert.match(reasonAt(intake.issues, 6), /over the request limit of 2,000/);
  assert.match(reasonAt(intake.issues, 8), /custom_id: appears twice in one object/);
  assert.match(reasonAt(intake.issues, 12), /was the file cut short\?/);

  // What an intake adds: its own fields are known, others are named with what it has; a custom_id is required.
  assert.match(reasonAt(intake.issues, 9), /^colour: is not a known field; an intake line has custom_id, params, tier, deadline, notifyWorkflowId$/);
  assert.match(reasonAt(refused.issues, 9), /^colour: is not a known field; a line has only "custom_id" and "params"$/);
  assert.equal(reasonAt(intake.issues, 10), '', 'tier is an intake field');
  assert.match(reasonAt(refused.issues, 10), /^tier: is not a known field/);
  assert.equal(reasonAt(intake.issues, 11), 'custom_id: is required: the intake uses it as the idempotency key');
  assert.equal(reasonAt(refused.issues, 11), '', 'a run derives the id');
  assert.deepEqual(
    intake.requests.map((r) => [r.line, r.custom_id, r.tier]),
    [
      [1, 't-1', undefined],
      [10, 't-11', 'bulk'],
    ],
  );
  assert.deepEqual(JSON.parse(intake.rejects[0]!), { line: 2, issues: at(refused.issues, [2]) }, 'a reject line is {line, issues}');
});
