/**
 * Reconciliation reads one result line to learn whose a batch is and leaves the download. When the API cuts that
 * download afterwards, the error must not surface as an unhandled 'error' event: chaos seed 2 saw it exit the worker,
 * again at every retry of the same reconciliation, and both jobs stood still. The emulator flushes the first lines,
 * pauses, then cuts: the reader has left by then.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamBatchResults } from '../src/activities/results-stream';
import { startEmulator } from '../src/emulator';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const CUT_PAUSE_MS = 300;

test('a reader that leaves after the first line survives the download being cut later', async () => {
  const emulator = await startEmulator({
    timeScale: 1e-4,
    latency: { batch: { kind: 'fixed', ms: 60_000 } },
    faults: { resultsCut: { rate: 1, afterLines: 50, pauseMs: CUT_PAUSE_MS, maxTimes: 1 } },
  });
  const client = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0 });
  const uncaught: unknown[] = [];
  const record = (err: unknown) => void uncaught.push(err);
  process.on('uncaughtException', record);
  try {
    const requests = Array.from({ length: 100 }, (_, i) => ({
      custom_id: `r-${i}`,
      params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hello' }] },
    }));
    const created = await client.messages.batches.create({ requests });
    let batch = created;
    while (batch.processing_status !== 'ended') {
      await sleep(10);
      batch = await client.messages.batches.retrieve(created.id);
    }
    let first: string | undefined;
    for await (const item of streamBatchResults(client, batch.id, batch.results_url ?? undefined)) {
      first = item.custom_id;
      break; // as reconciliation does: one line says whose the batch is
    }
    assert.match(first ?? '', /^r-\d+$/);
    // The cut comes CUT_PAUSE_MS after the first lines; an unhandled error would arrive by then (and, without the
    // listener above, end this process as it ended the worker).
    await sleep(CUT_PAUSE_MS * 4);
    assert.deepEqual(uncaught, [], 'a cut after the reader left raised an unhandled error');
    // The fault fired once: the next download is whole.
    const all: string[] = [];
    for await (const item of streamBatchResults(client, batch.id, batch.results_url ?? undefined)) all.push(item.custom_id);
    assert.equal(new Set(all).size, 100);
  } finally {
    process.off('uncaughtException', record);
    await emulator.close();
  }
});
