// Synchronous calls that the SDK refuses to send without streaming (a max_tokens it expects to take over ten
// minutes) stream instead, so a single-request job with max_tokens 32,000 finishes instead of retrying forever; and
// every client-side SDK error has a class (terminal or retryable), taken from real SDK calls.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { classifySdkError, FailureType, toApiFailure } from '../src/activities/api-failure';
import { mustStream } from '../src/activities/sync';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { SHORT_CALL_MAX_ATTEMPTS } from '../src/workflows/activity-options';
import { activityHarness, shardLines } from './helpers/activities';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({ timeScale: 0.001 });
});
after(() => emulator.close());

const errorOf = async (call: () => Promise<unknown>): Promise<unknown> => {
  try {
    await call();
  } catch (err) {
    return err;
  }
  assert.fail('the call succeeded');
};

describe('synchronous calls that must stream', () => {
  test('the SDK itself refuses max_tokens 32,000 without streaming (why the job used to hang)', async () => {
    const { anthropic } = await activityHarness(emulator);
    assert.equal(mustStream(anthropic, 32_000), true);
    assert.equal(mustStream(anthropic, 1_024), false);
    const refused = await errorOf(() =>
      anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32_000, messages: [{ role: 'user', content: 'hi' }] }),
    );
    const v = classifySdkError(refused);
    assert.equal(v.verdict, 'terminal');
    assert.match(v.reason, /the SDK refused the call: Streaming is required/);
    const failure = toApiFailure(refused, 'synchronous call for r0');
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, FailureType.ClientRefused);
  });

  test('a shard with a 32,000-token request among small ones: every answer is reported, the big one streamed', async () => {
    const jobId = 'job-stream';
    const { store, acts, run } = await activityHarness(emulator);
    const lines = shardLines(0, 3, (i) => `r${i}`);
    lines[1]!.params = { ...lines[1]!.params, max_tokens: 32_000 };
    await store.writeLines(jobKeys.shard(jobId, 's000000'), lines.map((l) => JSON.stringify(l)));
    const result = await run(acts.runSync, { jobId, shardKey: 's000000', concurrency: 2 });
    assert.equal(result.succeeded, 3);
    assert.equal(result.failed, 0);
    const outcomes: OutcomeLine[] = [];
    for await (const text of store.readLines(jobKeys.outcomes(jobId, 0, 'sync-s000000'))) outcomes.push(JSON.parse(text) as OutcomeLine);
    const big = outcomes.find((o) => o.custom_id === 'r1')!;
    assert.equal(big.status, 'succeeded');
    const message = big.message as Anthropic.Message;
    assert.equal(message.type, 'message');
    assert.ok((message.content[0] as Anthropic.TextBlock).text.startsWith('Synthetic reply'));
    assert.ok(message.usage.output_tokens > 0);
  });
});

describe('client-side SDK errors have a class', () => {
  test('nothing listening: a connection error, retryable', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const client = new Anthropic({ apiKey: 'k', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
    const err = await errorOf(() => client.messages.batches.retrieve('msgbatch_x'));
    assert.ok(err instanceof Anthropic.APIConnectionError);
    assert.deepEqual([classifySdkError(err).verdict, classifySdkError(err).errorType], ['retryable', 'connection_error']);
    const failure = toApiFailure(err, 'retrieve msgbatch_x');
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, false);
  });

  test('a call that outlasts its timeout: a timeout, retryable', async () => {
    const client = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0, timeout: 1 });
    const err = await errorOf(() => client.messages.batches.list());
    assert.ok(err instanceof Anthropic.APIConnectionTimeoutError);
    assert.equal(classifySdkError(err).verdict, 'retryable');
    assert.equal(classifySdkError(err).errorType, 'timeout_error');
  });

  test('an aborted call: retryable; an unknown batch: terminal with the API wording', async () => {
    const { anthropic } = await activityHarness(emulator);
    const controller = new AbortController();
    controller.abort();
    const aborted = await errorOf(() => anthropic.messages.batches.list({}, { signal: controller.signal }));
    assert.ok(aborted instanceof Anthropic.APIUserAbortError);
    assert.equal(classifySdkError(aborted).verdict, 'retryable');
    const missing = await errorOf(() => anthropic.messages.batches.retrieve('msgbatch_01nothere'));
    const v = classifySdkError(missing);
    assert.deepEqual([v.verdict, v.status, v.errorType], ['terminal', 404, 'not_found_error']);
    assert.match(toApiFailure(missing, 'retrieve').message, /not found .*Message batch msgbatch_01nothere not found/);
  });

  test('a bad key: terminal, naming ANTHROPIC_API_KEY', async () => {
    const client = new Anthropic({ apiKey: 'wrong', baseURL: emulator.url, maxRetries: 0 });
    const err = await errorOf(() => client.messages.batches.list());
    const failure = toApiFailure(err, 'list batches');
    assert.equal(failure.type, FailureType.AuthenticationFailed);
    assert.match(failure.message, /check ANTHROPIC_API_KEY/);
  });
});

describe('an activity bounded by attempts fails with its reason on the last one', () => {
  test('a retryable error on the last allowed attempt becomes terminal, saying why and after how many', async () => {
    const client = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0, timeout: 1 });
    const err = await errorOf(() => client.messages.batches.list());
    const at = (attempt: number) =>
      new MockActivityEnvironment({ attempt, retryPolicy: { maximumAttempts: SHORT_CALL_MAX_ATTEMPTS } }).run(
        (): Promise<ApplicationFailure> => Promise.resolve(toApiFailure(err, 'list batches')),
      );
    const early = await at(3);
    assert.equal(early.nonRetryable, false);
    const last = await at(SHORT_CALL_MAX_ATTEMPTS);
    assert.equal(last.nonRetryable, true);
    assert.equal(last.type, FailureType.AttemptsExhausted);
    assert.match(last.message, new RegExp(`list batches: the call timed out \\(gave up after ${SHORT_CALL_MAX_ATTEMPTS} attempts\\)`));
  });
});
