/** Pack the requests filed for retry by several collected batches into new shards of at most batchSize. */
import { jobKeys, retryShardKey, type ShardRef } from '../domain/job';
import { REQUEST_ENVELOPE_BYTES } from '../domain/limits';
import { createBatchCutter } from '../domain/split';
import type { ActivityDeps } from './deps';
import type { PackRetriesInput } from '../contracts/activities';

export function packRetriesActivity({ store }: ActivityDeps) {
  return async function packRetries(input: PackRetriesInput): Promise<{ shards: ShardRef[] }> {
    const cutter = createBatchCutter({ maxRequests: input.batchSize });
    const shards: ShardRef[] = [];
    let open: string[] = [];
    // A budgeted job's lines carry their worst case: the retry shard's is their sum.
    let worstUsd: number | undefined;
    const flush = async () => {
      if (open.length === 0) return;
      const key = retryShardKey(input.round, shards.length);
      await store.writeLines(jobKeys.shard(input.jobId, key), open);
      shards.push({ key, requests: open.length, ...(worstUsd === undefined ? {} : { worstUsd }) });
      open = [];
      worstUsd = undefined;
    };
    for (const batchId of input.batchIds) {
      for await (const text of store.readLines(jobKeys.retries(input.jobId, batchId))) {
        const { params, worst_usd } = JSON.parse(text) as { params: unknown; worst_usd?: number };
        if (cutter.add(Buffer.byteLength(JSON.stringify(params)) + REQUEST_ENVELOPE_BYTES).cutBefore) await flush();
        if (worst_usd !== undefined) worstUsd = (worstUsd ?? 0) + worst_usd;
        open.push(text);
      }
    }
    await flush();
    return { shards };
  };
}
