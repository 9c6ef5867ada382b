// What `sluice` checks before it connects anywhere (TEMPORAL_ADDRESS points at a closed port): --out, job ids,
// flag ranges, input files in words, the SLA warning, escaped control characters, the address in connection errors.
// Each case is the real CLI in a child process; exit code 2 means refused with nothing sent.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { sluice } from './helpers/cli';

const CLOSED = '127.0.0.1:1';
let dir: string;
let input: string;
const env = () => ({ TEMPORAL_ADDRESS: CLOSED, SLUICE_STATE_DIR: path.join(dir, 'state') });
const run = (...flags: string[]) => ['run', input, '--model', 'claude-haiku-4-5', '--max-tokens', '16', ...flags];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-edges-'));
  input = path.join(dir, 'input.jsonl');
  await writeFile(input, JSON.stringify({ params: { messages: [{ role: 'user', content: 'Say hello.' }] } }) + '\n');
  await writeFile(path.join(dir, 'a-file'), 'x');
  await mkdir(path.join(dir, 'a-dir.jsonl'));
  await symlink(path.join(dir, 'loop-b'), path.join(dir, 'loop-a'));
  await symlink(path.join(dir, 'loop-a'), path.join(dir, 'loop-b'));
});

describe('refused before anything connects (exit 2)', () => {
  const cases: { what: string; args: () => string[]; message: RegExp }[] = [
    { what: '--out is a file', args: () => run('--out', path.join(dir, 'a-file')), message: /^Error: --out .*a-file: exists and is not a directory$/m },
    { what: '--out below a file', args: () => run('--out', path.join(dir, 'a-file', 'sub')), message: /^Error: --out .*a-file\/sub: a part of the path is a file, not a directory$/m },
    { what: 'a missing input file', args: () => ['run', path.join(dir, 'nope.jsonl')], message: /^Error: .*nope\.jsonl: no such file or directory$/m },
    { what: 'a directory as input', args: () => ['run', path.join(dir, 'a-dir.jsonl')], message: /^Error: .*a-dir\.jsonl: is a directory/m },
    { what: 'a looping link as input', args: () => ['run', path.join(dir, 'loop-a')], message: /^Error: .*loop-a: too many symbolic links/m },
    { what: '--sla 100000000d', args: () => run('--sla', '100000000d'), message: /^Error: --sla 100000000d: is more than 366 days away/m },
    { what: '--sla 0s', args: () => run('--sla', '0s'), message: /^Error: --sla 0s: must be longer than 0$/m },
    { what: '--deadline 99999', args: () => run('--deadline', '99999'), message: /^Error: --deadline must be a date and time such as 2026-12-01T06:00Z \(got "99999"\)$/m },
    { what: 'a 5,000-character --name', args: () => run('--name', 'n'.repeat(5_000)), message: /^Error: --name: must be at most 200 characters \(got 5000\)$/m },
    { what: 'results for ../../x', args: () => ['results', '../../x'], message: /^Error: job "\.\.\/\.\.\/x" is not a job id/m },
    { what: 'status of an id with a slash', args: () => ['status', 'a/b'], message: /is not a job id/ },
    { what: 'codec-server --port 70000', args: () => ['codec-server', '--port', '70000'], message: /--port: must be a port number 0\.\.65535 \(got "70000"\)/ },
  ];
  for (const c of cases) {
    test(c.what, { timeout: 60_000 }, async () => {
      const r = await sluice(c.args(), env());
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, c.message);
      assert.doesNotMatch(r.out, /Cannot reach Temporal/, 'refused before connecting');
    });
  }
});

describe('messages for people', () => {
  test('a job id with terminal escapes and zero-width characters is shown escaped, never raw', { timeout: 60_000 }, async () => {
    const r = await sluice(['status', 'job\u001b[2J\u200bx'], env());
    assert.equal(r.code, 2);
    assert.ok(!r.out.includes('\u001b') && !r.out.includes('\u200b'), JSON.stringify(r.out));
    assert.match(r.out, /job\\x1b\[2J\\u200bx/);
  });

  test('Cannot reach Temporal says which address it tried', { timeout: 60_000 }, async () => {
    const r = await sluice(run(), env());
    assert.equal(r.code, 1);
    assert.match(r.out, /^Cannot reach Temporal at 127\.0\.0\.1:1 /m);
  });

  test('an SLA shorter than window + margin is warned about before the job starts', { timeout: 60_000 }, async () => {
    const r = await sluice(run('--sla', '1h'), env());
    assert.match(r.out, /^Warning: the deadline is 1h away, less than the batch window and margin \(24h \+ 2h\): no batch can be trusted to finish in time, so every request goes to the synchronous API/m);
    const off = await sluice(run('--sla', '1h', '--no-sync-fallback'), env());
    assert.match(off.out, /every request is reported sla_missed/);
    const fine = await sluice(run('--sla', '30h'), env());
    assert.doesNotMatch(fine.out, /Warning/);
  });

  test('- with bad lines on standard input names <stdin> in its issues', { timeout: 60_000 }, async () => {
    // Reading standard input needs no server; a bad line is refused by validation, which runs after connecting,
    // so this only checks that "-" is not taken as a file name.
    const r = await sluice(['run', '-', '--model', 'claude-haiku-4-5', '--max-tokens', '16'], env(), { stdin: '{"params":{}}\n' });
    assert.doesNotMatch(r.out, /-: no such file/);
    assert.match(r.out, /Cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});
