/**
 * Sluice's activities outside a worker, for activity tests: the real store (a temporary directory), the real SDK
 * against the emulator (SDK retries off, so each fault is seen), and Temporal's MockActivityEnvironment.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { ShardLine } from '../../src/domain/job';
import { DEFAULT_PRICES } from '../../src/domain/prices';
import { QueueCapacitySchema } from '../../src/domain/queue';
import type { SubmissionTimingInput } from '../../src/domain/reconcile';
import type { EmulatorHandle } from '../../src/emulator';
import { LocalDirectoryStore } from '../../src/store/local-store';

export async function activityHarness(emulator: EmulatorHandle, opts: { submission?: SubmissionTimingInput } = {}) {
  const store = new LocalDirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'sluice-activities-')));
  const anthropic = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0 });
  const acts = createActivities({
    store,
    anthropic,
    anthropicNoRetry: anthropic,
    prices: DEFAULT_PRICES,
    queueCapacity: QueueCapacitySchema.parse({}),
    submission: opts.submission,
  });
  const env = new MockActivityEnvironment();
  /** Runs one activity with its input, typed. */
  const run = <A, R>(fn: (a: A) => Promise<R>, a: A): Promise<R> => env.run<[A], R, (a: A) => Promise<R>>(fn, a);
  return { store, anthropic, acts, env, run };
}

/** `count` small requests of one original shard, as the plan activity writes them. */
export function shardLines(shard: number, count: number, idOf: (i: number) => string = (i) => `s${shard}-r${i}`): ShardLine[] {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: idOf(i),
    line: shard * count + i + 1,
    origin: shard,
    attempt: 1,
    batch_ids: [],
    params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `q ${shard}/${i}` }] },
  }));
}
