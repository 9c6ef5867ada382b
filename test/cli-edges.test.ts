// What `sluice` checks before it connects anywhere (TEMPORAL_ADDRESS points at a closed port): --out, job ids,
// flag ranges, input files in words, the SLA warning, escaped control characters, the address in connection errors.
// Each case is the real CLI in a child process; exit code 2 means refused with nothing sent.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { sluice } from './helpers/cli';

const CLOSED = '127.0.0.1:1';
let dir: string;
let input: string;
const env = () => ({ TEMPORAL_ADDRESS: CLOSED, SLUICE_STATE_DIR: path.join(dir, 'state') });
const run = (...flags: string[]) => ['run', input, ...SHAPE, ...flags];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-edges-'));
  input = path.join(dir, 'input.jsonl');
  await writeFile(input, JSON.stringify({ params: { messages: [{ role: 'user', content: 'Say hello.' }] } }) + '\n');
  await writeFile(path.join(dir, 'a-file'), 'x');
  await mkdir(path.join(dir, 'a-dir.jsonl'));
  await symlink(path.join(dir, 'loop-b'), path.join(dir, 'loop-a'));
  await symlink(path.join(dir, 'loop-a'), path.join(dir, 'loop-b'));
});

interface CliCase {
  kind: string;
  args: string[];
  message: string;
}
const manifest = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'bad-input', 'cli-cases.json'), 'utf8')) as {
  cases: Record<string, CliCase>;
};
const SHAPE = ['--model', 'claude-haiku-4-5', '--max-tokens', '16'];
const expand = (arg: string) => (arg === '{5000 n}' ? 'n'.repeat(5_000) : arg.replace('{dir}', dir).replace('{input}', input));

// Three at a time: each case is a CLI process of its own that reads the shared files and writes nothing.
describe('refused before anything connects (exit 2): test/fixtures/bad-input/cli-cases.json', { concurrency: 3 }, () => {
  test('the manifest holds at least 15 kinds', () => assert.ok(Object.keys(manifest.cases).length >= 15));
  for (const [name, c] of Object.entries(manifest.cases)) {
    test(`${name}: ${c.kind}`, { timeout: 60_000 }, async () => {
      const args = c.args.map(expand);
      const r = await sluice(args[0] === 'run' ? [...args, ...SHAPE] : args, env());
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, new RegExp(c.message, 'm'));
      assert.doesNotMatch(r.out, /Cannot reach Temporal/, 'refused before connecting');
      // eslint-disable-next-line no-control-regex -- the point: no raw control character reaches the terminal
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.out), 'a raw control character in the output');
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
    // At once: each waits for the closed port's refusals after its warning.
    const [r, off, fine] = await Promise.all([
      sluice(run('--sla', '1h'), env()),
      sluice(run('--sla', '1h', '--no-sync-fallback'), env()),
      sluice(run('--sla', '30h'), env()),
    ]);
    assert.match(r.out, /^Warning: the deadline is 1h away, less than the batch window and margin \(24h \+ 2h\): no batch can be trusted to finish in time, so every request goes to the synchronous API/m);
    assert.match(off.out, /every request is reported sla_missed/);
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
