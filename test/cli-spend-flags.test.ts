// `sluice run`'s canary and output-check flags refused before anything connects or is sent: exit 2, the flag or the
// file named, and why. (A canary larger than the job is refused once the input is read: test/job-canary-output.)
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sluice } from './helpers/cli';

// Nothing listens here: a check that passed would try to connect and fail differently (exit 1).
const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', ANTHROPIC_API_KEY: undefined };

async function files() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-spend-'));
  const input = path.join(dir, 'in.jsonl');
  await writeFile(input, '{"params":{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}}\n');
  const notJson = path.join(dir, 'bad.json');
  await writeFile(notJson, '{"type": ');
  const badSchema = path.join(dir, 'schema.json');
  await writeFile(badSchema, JSON.stringify({ type: 'object', properties: { label: { type: 'strin' } } }));
  const good = path.join(dir, 'good.json');
  await writeFile(good, JSON.stringify({ type: 'string' }));
  return { dir, input, notJson, badSchema, good };
}

test('bad canary and output-check flags exit 2 naming the flag or file, before connecting', async () => {
  const f = await files();
  const cases: [string[], RegExp][] = [
    [['--canary', '--canary-max-failures', '150'], /--canary-max-failures 150: must be a percentage from 0 to 100/],
    [['--canary-max-failures', '5'], /--canary-max-failures: needs --canary/],
    [['--canary', '0'], /--canary 0: must be at least 1 request/],
    [['--canary', 'many'], /--canary must be a whole number/],
    [['--schema', f.notJson], new RegExp(`--schema ${f.notJson}: is not JSON`)],
    [['--schema', f.badSchema], new RegExp(`--schema ${f.badSchema}: is not valid JSON Schema: /properties/label/type: must be equal to one of the allowed values`)],
    [['--schema', path.join(f.dir, 'missing.json')], /missing\.json: no such file or directory/],
    [['--expect', 'text', '--schema', f.good], /--expect text disagrees with --schema/],
  ];
  for (const [flags, expected] of cases) {
    const r = await sluice(['run', f.input, '--out', path.join(f.dir, 'out'), ...flags], env);
    assert.equal(r.code, 2, `${flags.join(' ')}: exit 2\n${r.out}`);
    assert.match(r.out, expected, flags.join(' '));
    assert.doesNotMatch(r.out, /Cannot reach Temporal/, `${flags.join(' ')}: refused before connecting`);
  }
});
