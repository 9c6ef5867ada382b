/** Whose requests an ended batch holds, read from the wire id of its first result (for reconciliation and audits). */
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import type { SubmissionId } from '../domain/reconcile';
import { decodeWireId, wireKeys, type WireTagEntry } from '../domain/wire-id';
import type { BlobStore } from '../store/blob-store';
import type { ActivityDeps } from './deps';
import { streamBatchResults } from './results-stream';

/** Whose requests an ended batch holds, from the wire id of its first result; undefined while results are not ready. */
export async function holderOf(
  anthropic: ActivityDeps['anthropic'],
  store: BlobStore,
  batch: MessageBatch,
): Promise<SubmissionId | 'foreign' | undefined> {
  let first: string | undefined;
  try {
    for await (const item of streamBatchResults(anthropic, batch.id, batch.results_url ?? undefined)) {
      first = item.custom_id;
      break;
    }
  } catch {
    return undefined; // a 404 right after the end, or a cut stream: look again next time
  }
  if (first === undefined) return undefined;
  const address = decodeWireId(first);
  if (!address) return 'foreign';
  const entry = await store.readJson<WireTagEntry>(wireKeys.tag(address.tag));
  return entry ? { jobId: entry.jobId, shardKey: address.shardKey } : 'foreign';
}
