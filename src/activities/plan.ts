/** Plan: split the job's normalized input into shards of at most batchSize requests (and 256 MB). */
import { heartbeat } from '@temporalio/activity';
import { REQUEST_ENVELOPE_BYTES } from '../domain/limits';
import { createBatchCutter } from '../domain/split';
import { jobKeys, originalShardKey, type NormalizedRequest, type ShardLine } from '../domain/job';
import type { ActivityDeps } from './deps';
import type { PlanInput, PlanResult } from '../contracts/activities';

export function planActivity({ store }: ActivityDeps) {
  return async function planJob(input: PlanInput): Promise<PlanResult> {
    // A plan that was written completely is final: running the activity again returns it unchanged.
    const done = await store.readJson<PlanResult>(jobKeys.plan(input.jobId));
    if (done) return done;

    const cutter = createBatchCutter({ maxRequests: input.batchSize });
    const shardSizes: number[] = [];
    let open: string[] = [];
    const flush = async () => {
      if (open.length === 0) return;
      await store.writeLines(jobKeys.shard(input.jobId, originalShardKey(shardSizes.length)), open);
      shardSizes.push(open.length);
      open = [];
      heartbeat({ shards: shardSizes.length });
    };

    let requestCount = 0;
    for await (const text of store.readLines(input.inputKey)) {
      const request = JSON.parse(text) as NormalizedRequest;
      const line: ShardLine = { ...request, origin: shardSizes.length, attempt: 1, batch_ids: [] };
      if (cutter.add(Buffer.byteLength(JSON.stringify(request.params)) + REQUEST_ENVELOPE_BYTES).cutBefore) {
        await flush();
        line.origin = shardSizes.length;
      }
      open.push(JSON.stringify(line));
      requestCount++;
    }
    await flush();
    const plan = { requestCount, shardSizes };
    await store.writeJson(jobKeys.plan(input.jobId), plan);
    return plan;
  };
}
