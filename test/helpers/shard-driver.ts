/**
 * Drives Sluice's real activities through a job's shards the way the job workflow does (submit, poll, collect,
 * pack retries, again), with Temporal's retry behaviour (retryable failures run again after their nextRetryDelay),
 * so scenario tests aim faults at exact calls and then check every request end to end.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SubmitResult } from '../../src/contracts/activities';
import { jobKeys, type OutcomeLine, type ShardLine } from '../../src/domain/job';
import type { EmulatorHandle } from '../../src/emulator';
import type { activityHarness } from './activities';
import { sendsByCustomId, userIdOf, wireIdsSentTwice } from './wire';

type Harness = Awaited<ReturnType<typeof activityHarness>>;

/** Runs `fn` as Temporal would: again after a retryable failure (its nextRetryDelay, else 50 ms), up to `max` attempts. */
export async function asTemporalRetries<R>(fn: (attempt: number) => Promise<R>, max = 600): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if ((err instanceof ApplicationFailure && err.nonRetryable) || attempt >= max) throw err;
      const delay = err instanceof ApplicationFailure && err.nextRetryDelay !== undefined ? msToNumber(err.nextRetryDelay) : 50;
      await sleep(Math.min(delay, 500));
    }
  }
}

/** One activity, one attempt, in its own activity context. */
export function runAttempt<A, R>(fn: (a: A) => Promise<R>, input: A, attempt: number): Promise<R> {
  return new MockActivityEnvironment({ attempt }).run<[A], R, (a: A) => Promise<R>>(fn, input);
}

export function submitRetrying(h: Harness, jobId: string, shardKey: string): Promise<SubmitResult> {
  return asTemporalRetries((attempt) => runAttempt(h.acts.submitBatch, { jobId, shardKey }, attempt));
}

/** Polls, collects and packs retries until every request of the given submissions has its outcome. */
export async function finishJob(h: Harness, jobId: string, first: { shardKey: string; submitted: Promise<SubmitResult> }[], maxAttempts = 3) {
  let round = 0;
  let wave = first;
  while (wave.length > 0) {
    const inFlight = await Promise.all(wave.map(async (w) => ({ shardKey: w.shardKey, ...(await w.submitted) })));
    const withRetries: string[] = [];
    while (inFlight.length > 0) {
      await sleep(50);
      const polled = await asTemporalRetries((a) =>
        runAttempt(h.acts.pollBatches, { batches: inFlight.map((b) => ({ batchId: b.batchId, submittedAtMs: b.createdAtMs })), listThreshold: 20 }, a),
      );
      for (const ended of polled.ended) {
        const i = inFlight.findIndex((b) => b.batchId === ended.batchId);
        const [b] = inFlight.splice(i, 1);
        const r = await asTemporalRetries((a) =>
          runAttempt(h.acts.collectBatch, { jobId, batchId: b!.batchId, resultsUrl: ended.resultsUrl, shardKey: b!.shardKey, maxAttempts, jobCanceled: false }, a),
        );
        if (r.retry > 0) withRetries.push(b!.batchId);
      }
    }
    if (withRetries.length === 0) break;
    const { shards } = await runAttempt(h.acts.packRetries, { jobId, batchIds: withRetries, round: ++round, batchSize: 100 }, 1);
    wave = shards.map((s) => ({ shardKey: s.key, submitted: submitRetrying(h, jobId, s.key) }));
  }
}

export async function writeShard(h: Harness, jobId: string, shardKey: string, lines: ShardLine[]) {
  await h.store.writeLines(jobKeys.shard(jobId, shardKey), lines.map((l) => JSON.stringify(l)));
}

async function outcomesOf(h: Harness, jobId: string, origin: number): Promise<OutcomeLine[]> {
  const out: OutcomeLine[] = [];
  for (const key of await h.store.list(jobKeys.outcomesOf(jobId, origin))) {
    for await (const text of h.store.readLines(key)) out.push(JSON.parse(text) as OutcomeLine);
  }
  return out;
}

/**
 * The scenario invariants: every request has exactly one outcome; no request was sent more often than the batches
 * its outcome names (no wire id in two batches); every succeeded outcome is what the API returned for it.
 */
export async function assertEveryRequestOnce(h: Harness, emulator: EmulatorHandle, jobs: { jobId: string; origins: ShardLine[][] }[]) {
  const stats = emulator.stats();
  assert.deepEqual(wireIdsSentTwice(stats), [], 'no request was sent twice under one wire id (no batch paid twice)');
  const sends = await sendsByCustomId(h.store, stats, { byJob: true });
  const api = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0 });
  const answers = new Map<string, unknown>(); // jobId/custom_id/batchId → message
  for (const { batchId } of stats.createLog) {
    for await (const item of await api.messages.batches.results(batchId)) {
      const user = await userIdOf(h.store, item.custom_id);
      if (user && item.result.type === 'succeeded') answers.set(`${user.jobId}/${user.customId}/${batchId}`, item.result.message);
    }
  }
  let sentTotal = 0;
  let namedTotal = 0;
  for (const { jobId, origins } of jobs) {
    for (const [origin, lines] of origins.entries()) {
      const outcomes = await outcomesOf(h, jobId, origin);
      assert.deepEqual(outcomes.map((o) => o.custom_id).sort(), lines.map((l) => l.custom_id).sort(), `${jobId} shard ${origin}: one outcome per request`);
      for (const o of outcomes) {
        const key = `${jobId}/${o.custom_id}`;
        const sent = sends[key]?.batch ?? 0;
        assert.equal(sent, o.batch_ids.length, `${key}: sent ${sent} times, in ${o.batch_ids.length} batches it names`);
        sentTotal += sent;
        namedTotal += o.batch_ids.length;
        if (o.status === 'succeeded') {
          assert.deepEqual(o.message, answers.get(`${key}/${o.batch_ids.at(-1)}`), `${key}: the result is what the API returned`);
        }
      }
    }
  }
  assert.equal(sentTotal, stats.requestsSubmitted, 'every request the API received belongs to a request of these jobs');
  return { sentTotal, namedTotal };
}
