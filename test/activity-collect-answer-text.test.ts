// collectBatch files a succeeded answer as the text the results download carried (no second serialization). What it
// files must not change: the same outcome lines, byte for byte, as when it serializes each parsed answer (the SDK's
// own download, taken when the poll gave no results URL), for answers with quotes and escapes in them, beside
// failed requests and ones sent again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEmulator } from '../src/emulator';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { activityHarness, shardLines } from './helpers/activities';
import { runAttempt, submitRetrying, writeShard } from './helpers/shard-driver';

test('answers filed from the download\'s text are the lines serializing each parsed answer gives', { timeout: 60_000 }, async () => {
  const emulator = await startEmulator({
    timeScale: 0.001,
    latency: { batch: { kind: 'fixed', ms: 1_000 }, spread: 0 },
    faults: {
      errorCustomIds: [
        // On the wire a request goes by its wire id, which ends in its place in the shard.
        { pattern: '_3$', type: 'invalid_request_error', message: 'a "bad" request' },
        { pattern: '_5$', type: 'overloaded_error' },
      ],
    },
  });
  try {
    const h = await activityHarness(emulator);
    const jobId = 'job-answer-text';
    // Prompts that mention JSON get JSON answers: quotes escaped inside the message's text.
    const lines = shardLines(0, 8, (i) => `doc-${i}`).map((l, i) =>
      i % 2 === 0 ? { ...l, params: { ...l.params, messages: [{ role: 'user' as const, content: `answer in JSON, item ${i}` }] } } : l,
    );
    await writeShard(h, jobId, 's000000', lines);
    const submitted = await submitRetrying(h, jobId, 's000000');
    let batch = await h.anthropic.messages.batches.retrieve(submitted.batchId);
    while (batch.processing_status !== 'ended') {
      await new Promise((r) => setTimeout(r, 20));
      batch = await h.anthropic.messages.batches.retrieve(submitted.batchId);
    }
    const input = { jobId, batchId: submitted.batchId, shardKey: 's000000', maxAttempts: 3, jobCanceled: false };
    const filed = async () => {
      const out: string[] = [];
      for await (const text of h.store.readLines(jobKeys.outcomes(jobId, 0, submitted.batchId))) out.push(text);
      return out;
    };

    const fromText = await runAttempt(h.acts.collectBatch, { ...input, resultsUrl: batch.results_url! }, 1);
    const asText = await filed();
    const fromParsed = await runAttempt(h.acts.collectBatch, input, 1);
    const asParsed = await filed();

    assert.deepEqual(fromText, fromParsed, 'the same counts and cost either way');
    assert.deepEqual([fromText.succeeded, fromText.failed, fromText.retry], [6, 1, 1]);
    assert.deepEqual(asText, asParsed, 'the same outcome lines, byte for byte');
    const sent = new Map<string, unknown>();
    for await (const r of await h.anthropic.messages.batches.results(submitted.batchId)) {
      if (r.result.type === 'succeeded') sent.set(`doc-${r.custom_id.split('_').pop()}`, r.result.message);
    }
    const outcomes = asText.map((t) => JSON.parse(t) as OutcomeLine);
    assert.deepEqual(outcomes.map((o) => [o.custom_id, o.status]), [0, 1, 2, 3, 4, 6, 7].map((i) => [`doc-${i}`, i === 3 ? 'failed' : 'succeeded']));
    for (const o of outcomes) if (o.status === 'succeeded') assert.deepEqual(o.message, sent.get(o.custom_id), `${o.custom_id}: the answer the API sent`);
    assert.ok(asText.some((t) => t.includes('\\"')), 'some answer holds escaped quotes');
  } finally {
    await emulator.close();
  }
});
