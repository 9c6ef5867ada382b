/** One request's outcome in a finished job's results.jsonl (undefined while there is none). */
import { jobKeys, type OutcomeLine } from '../domain/job';
import type { BlobStore } from './blob-store';

export async function outcomeIn(store: BlobStore, jobId: string, customId: string): Promise<OutcomeLine | undefined> {
  const key = jobKeys.output(jobId, 'results.jsonl');
  if (!(await store.exists(key))) return undefined;
  for await (const text of store.readLines(key)) {
    const o = JSON.parse(text) as OutcomeLine;
    if (o.custom_id === customId) return o;
  }
  return undefined;
}
