/**
 * A sweep backlog, as an intake idle for a long spell leaves it: `lists` retired lists long past any retention, one
 * chunk each, whose requests were all cut (their records name a job). The store is the real one the worker uses.
 */
import type { BufferLine, RequestRecord } from '../../src/contracts/activities';
import { intakeKeys } from '../../src/contracts/store-keys';
import type { BlobStore } from '../../src/store/blob-store';

export async function seedSweepBacklog(store: BlobStore, intake: string, lists: number, perList = 2) {
  const records: string[] = [];
  const listKeys: string[] = [];
  const segments: string[] = [];
  for (let n = 1; n <= lists; n++) {
    const segment = intakeKeys.segment(intake, `backlog-${n}`);
    segments.push(segment);
    const lines: BufferLine[] = Array.from({ length: perList }, (_, i) => ({
      customId: `backlog-${n}-${i}`,
      segment,
      tier: 'bulk',
      enqueuedAtMs: n,
      deadlineMs: 10_000 + n,
      cutByMs: 9_000 + n,
    }));
    await store.writeLines(segment, lines.map((l) => JSON.stringify({ custom_id: l.customId, params: { model: 'claude-haiku-4-5' } })));
    for (const l of lines) {
      const record: RequestRecord = { custom_id: l.customId, segment, tier: l.tier, acceptedAtMs: n, jobId: 'an-old-job' };
      await store.writeJson(intakeKeys.requestRecord(intake, l.customId), record);
      records.push(intakeKeys.requestRecord(intake, l.customId));
    }
    const chunk = intakeKeys.bufferChunk(intake, 'backlog', n);
    await store.writeLines(chunk, lines.map((l) => JSON.stringify(l)));
    const listKey = intakeKeys.retired(intake, 1_000 + n, 'backlog', n);
    await store.writeJson(listKey, [chunk]);
    listKeys.push(listKey);
  }
  return { records, listKeys, segments };
}
