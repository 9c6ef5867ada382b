// A Sluice job run with the AES-GCM codec on the real dev server: every payload in its history is encrypted (no
// job id, store key or batch id in the clear), the same codec decodes them all, and a client without the keys
// cannot read the result.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { startJob, waitForJob } from '../src/client/jobs';
import { AesGcmCodec, ENCODING_ENCRYPTED, parseCodecKeys } from '../src/codec';
import { createSluiceWorker } from '../src/worker';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };

/** Every payload in a history, with where it was found; search attributes (indexed, never encoded) left out. */
function payloadsOf(value: unknown, where = 'history', found: { where: string; payload: Payload }[] = []) {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const v = value as Record<string, unknown>;
  const metadata = v.metadata;
  if (metadata && typeof metadata === 'object' && Object.values(metadata).every((m) => m instanceof Uint8Array)) {
    if (Object.keys(metadata).length > 0) found.push({ where, payload: v });
    return found;
  }
  for (const [k, child] of Object.entries(v)) {
    if (k === 'searchAttributes') continue;
    payloadsOf(child, `${where}.${k}`, found);
  }
  return found;
}

/** Marker fields the SDK writes itself (not through the data converter), and the only keys they may hold. */
const SDK_MARKER_DATA = [
  { where: /markerRecordedEventAttributes\.details\.patch-data\.payloads\.0$/, fields: ['id', 'deprecated'] },
  {
    where: /markerRecordedEventAttributes\.details\.data\.payloads\.0$/,
    fields: ['seq', 'attempt', 'activity_id', 'activity_type', 'complete_time', 'backoff', 'original_schedule_time'],
  },
];

describe('a job with payload encryption', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  test('leaves only encrypted payloads in history, all decodable with the keys', { timeout: 90_000 }, async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`test-key:${randomBytes(32).toString('base64')}`));
    const dataConverter = { payloadCodecs: [codec] };
    const namespace = stack.env.namespace ?? 'default';
    const client = new Client({ connection: stack.env.connection, namespace, dataConverter });
    const worker = await createSluiceWorker({
      workflowBundlePath: await sharedWorkflowBundlePath(),
      connection: stack.env.nativeConnection,
      namespace,
      taskQueue: stack.taskQueue,
      apiKey: stack.emulator.apiKey,
      baseURL: stack.emulator.url,
      store: stack.store,
      dataConverter,
    });
    const file = await writeJobInput(150);
    const { workflowId, handle } = await startJob({
      client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      name: 'encrypted',
      defaults: { model: 'claude-haiku-4-5', max_tokens: 32 },
      options: { ...FAST_POLL, batchSize: 100 },
    });
    const summary = await worker.runUntil(waitForJob(client, workflowId));
    assert.equal(summary.outcomes.succeeded, 150);

    const history = await handle.fetchHistory();
    const found = payloadsOf(history.events);
    assert.ok(found.length >= 10, `payloads found in history: ${found.length}`);
    for (const { where, payload } of found) {
      const sdkOwn = SDK_MARKER_DATA.find((m) => m.where.test(where));
      if (sdkOwn) {
        // The SDK's own bookkeeping in its markers (a patch's id; a local activity's seq, type and times) is written
        // in the clear by the SDK itself, past the codec: it must hold nothing of the job's.
        const fields = Object.keys(JSON.parse(Buffer.from(payload.data!).toString()) as object);
        assert.deepEqual(fields.filter((f) => !sdkOwn.fields.includes(f)), [], `${where} holds only the SDK's own fields`);
        continue;
      }
      assert.equal(Buffer.from(payload.metadata!.encoding!).toString(), ENCODING_ENCRYPTED, `${where} is encrypted`);
    }

    // In the raw bytes of the whole history: no store key, no batch id, no plaintext JSON payload.
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
    const batchIds = stack.emulator.stats().createLog.map((c) => c.batchId);
    assert.equal(batchIds.length, 2);
    for (const secret of [...batchIds, `jobs/${workflowId}`, 'shards/s000000', '"requestCount"']) {
      assert.ok(!raw.includes(secret), `${secret} is in the history in the clear`);
    }

    // The codec opens every one of them, and they hold what the job passed around.
    const decoded = await codec.decode(found.map((f) => f.payload));
    const texts = decoded.map((p) => JSON.stringify(defaultPayloadConverter.fromPayload(p)));
    for (const id of batchIds) assert.ok(texts.some((t) => t.includes(id)), `a decoded payload names ${id}`);
    assert.ok(texts.some((t) => t.includes(`jobs/${workflowId}/input.jsonl`)), 'the job spec decodes');

    // A client without the keys cannot read the result.
    await assert.rejects(stack.env.client.workflow.getHandle(workflowId).result(), /binary\/encrypted|encoding/i);
  });
});
