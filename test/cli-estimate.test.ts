/**
 * `sluice run --dry-run` and `sluice estimate` against the emulator: the demo input is priced with every request
 * counted by the token counting endpoint and no billable call (emulator stats); `--json` has the documented shape and
 * figures that agree with the emulator's own accounting; a bad line is refused as a run refuses it (exit 2); a request
 * the endpoint refuses is named with the API's reason; without an API key the bound is used and said.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import type { EstimateReport } from '../src/cli/estimate-text';
import { ROOT, sluice } from './helpers/cli';

const DEMO = path.join(ROOT, 'examples', 'demo.jsonl');

describe('estimate and --dry-run', () => {
  let emulator: EmulatorHandle;
  let dir: string;
  before(async () => {
    emulator = await startEmulator({ timeScale: 0.001 });
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-estimate-test-'));
  });
  after(() => emulator.close());

  const env = () => ({
    ANTHROPIC_API_KEY: emulator.apiKey,
    ANTHROPIC_BASE_URL: emulator.url,
    // Nothing may need Temporal: a closed port.
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    SLUICE_STATE_DIR: path.join(dir, 'state'),
  });

  test('--dry-run on the demo prints the estimate and makes no billable call', { timeout: 120_000 }, async () => {
    const before = emulator.stats();
    const r = await sluice(['run', DEMO, '--dry-run', '--sla', '30h'], env());
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Estimate for .*demo\.jsonl \(nothing billable was sent\)$/m);
    assert.match(r.out, /requests {10}1,000 in 10 sub-batches of up to 100/);
    assert.match(r.out, /input tokens {6}[\d,]+ \(1,000 of 1,000 requests counted by the token counting endpoint\)/);
    assert.match(r.out, /worst case {8}USD [\d.]+ +USD [\d.]+ +\(input \+ max_tokens\)/);
    assert.match(r.out, /SLA {15}deadline .*; latest batch submission .* \(in 4h\)/);
    const after = emulator.stats();
    assert.equal(after.billableCalls - before.billableCalls, 0, 'no batch created, no message sent');
    assert.equal(after.batches, before.batches);
    assert.equal(after.tokenCounts - before.tokenCounts, 1_000, 'every request counted once');
  });

  test('estimate --json: the shape scripts read, and input tokens as the emulator bills them', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'two.jsonl');
    const params = (text: string, extra = {}) => ({ model: 'claude-sonnet-5-5', max_tokens: 100, messages: [{ role: 'user', content: text }], ...extra });
    const cached = { system: [{ type: 'text', text: 'A long shared context.', cache_control: { type: 'ephemeral', ttl: '1h' } }] };
    await writeFile(file, [JSON.stringify({ custom_id: 'a', params: params('Hello') }), JSON.stringify({ custom_id: 'b', params: params('Hi there', cached) })].join('\n') + '\n');
    const r = await sluice(['estimate', file, '--json', '--budget', '5', '--output-tokens', '20', '--deadline', new Date(Date.now() + 48 * 3_600_000).toISOString()], env());
    assert.equal(r.code, 0, r.out);
    const e = JSON.parse(r.out.slice(r.out.indexOf('{'))) as EstimateReport;
    assert.equal(e.requests, 2);
    assert.equal(e.subBatches, 1);
    assert.equal(e.countedRequests, 2);
    assert.deepEqual(e.notCounted, []);
    assert.equal(e.maxOutputTokens, 200);
    assert.equal(e.billableCallsSent, false);
    for (const k of ['inputOnly', 'expected', 'worstCase'] as const) {
      assert.ok(e.costUsd[k]!.batch > 0 && Math.abs(e.costUsd[k]!.sync - 2 * e.costUsd[k]!.batch) < 1e-12, k);
    }
    assert.ok(e.costUsd.inputOnly.batch < e.costUsd.expected!.batch && e.costUsd.expected!.batch < e.costUsd.worstCase.batch);
    assert.equal(e.cache?.requestsMarked, 1);
    assert.ok(e.sla && Date.parse(e.sla.latestBatchSubmission) < Date.parse(e.sla.deadline));
    assert.deepEqual(e.budget && { limitUsd: e.budget.limitUsd, coversWorstCase: e.budget.coversWorstCase }, { limitUsd: 5, coversWorstCase: true });
    // The same requests, sent: the emulator bills the input tokens the estimate counted.
    const sent = await fetch(`${emulator.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': emulator.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(params('Hello')),
    });
    const second = await fetch(`${emulator.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': emulator.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(params('Hi there', cached)),
    });
    const usage = [((await sent.json()) as { usage: { input_tokens: number } }).usage, ((await second.json()) as { usage: { input_tokens: number } }).usage];
    assert.equal(e.inputTokens, usage[0]!.input_tokens + usage[1]!.input_tokens);
  });

  test('bad lines are refused as a run refuses them; refused counts are named; no key means bounds', { timeout: 60_000 }, async () => {
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(bad, '{"params":{"model":"claude-haiku-4-5","max_tokens":0,"messages":[{"role":"user","content":"x"}]}}\n');
    const refused = await sluice(['estimate', bad], env());
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /bad\.jsonl:1: params\.max_tokens/);

    const file = path.join(dir, 'tricky.jsonl');
    // The emulator refuses this model by name on count_tokens (the lineup it serves lacks it) but the client
    // without the Models API lets it through: it is named, with the API's reason, and bounded.
    await writeFile(file, JSON.stringify({ custom_id: 'x', params: { model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] } }) + '\n');
    const noKey = await sluice(['estimate', file], { ...env(), ANTHROPIC_API_KEY: undefined });
    assert.equal(noKey.code, 0, noKey.out);
    assert.match(noKey.out, /No ANTHROPIC_API_KEY: tokens are not counted but bounded at one token per byte/);
    assert.match(noKey.out, /not counted {7}1 requests, priced with an upper bound of one token per byte:\n {4}line 1 \(x\): no API key/);
    const tooLow = await sluice(['estimate', file, '--budget', '0.0000001'], env());
    assert.equal(tooLow.code, 2, tooLow.out);
    assert.match(tooLow.out, /below the worst case of one sub-batch \(USD [\d.]+ at synchronous prices/);
  });
});
