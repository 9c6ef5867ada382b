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
    const flush = async () => {
      if (open.length === 0) return;
      const key = retryShardKey(input.round, shards.length);
      await store.writeLines(jobKeys.shard(input.jobId, key), open);
      shards.push({ key, requests: open.length });
      open = [];
    };
    for (const batchId of input.batchIds) {
      for await (const text of store.readLines(jobKeys.retries(input.jobId, batchId))) {
        const { params } = JSON.parse(text) as { params: unknown };
        if (cutter.add(Buffer.byteLength(JSON.stringify(params)) + REQUEST_ENVELOPE_BYTES).cutBefore) await flush();
        open.push(text);
      }
    }
    await flush();
    return { shards };
  };
}
