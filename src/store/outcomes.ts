/** Requests' outcomes in a finished job's results.jsonl (none while there is none). */
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

/** The outcomes of several of the job's requests, by custom_id, in one read of its results. */
export async function outcomesIn(store: BlobStore, jobId: string, customIds: ReadonlySet<string>): Promise<Map<string, OutcomeLine>> {
  const found = new Map<string, OutcomeLine>();
  const key = jobKeys.output(jobId, 'results.jsonl');
  if (!(await store.exists(key))) return found;
  for await (const text of store.readLines(key)) {
    const o = JSON.parse(text) as OutcomeLine;
    if (customIds.has(o.custom_id) && !found.has(o.custom_id)) found.set(o.custom_id, o);
    if (found.size === customIds.size) break;
  }
  return found;
}
