/**
 * Emulator stats are keyed by what went on the wire: Sluice's wire ids. These helpers read them back as the user's
 * custom_ids (through the store: tag → job, shard file → line), so tests can say "this request was sent twice".
 */
import { userIdOf } from '../../src/client/wire-ids';
import type { EmulatorStats } from '../../src/emulator/stats';
import { decodeWireId } from '../../src/domain/wire-id';
import type { BlobStore } from '../../src/store/blob-store';

export { userIdOf };

export interface UserSends {
  jobId: string;
  customId: string;
  batch: number;
  sync: number;
}

/**
 * Sends per user custom_id (summed over the wire ids of every attempt), keyed `custom_id` (or `jobId/custom_id`
 * with `byJob`). Sync calls are keyed by the header Sluice sends, which is the user's custom_id.
 */
export async function sendsByCustomId(store: BlobStore, stats: EmulatorStats, opts: { byJob?: boolean } = {}): Promise<Record<string, { batch: number; sync: number }>> {
  const out: Record<string, { batch: number; sync: number }> = {};
  const cache = new Map<string, string[]>();
  for (const [wireId, sends] of Object.entries(stats.submissions)) {
    const user = await userIdOf(store, wireId, cache);
    const key = user ? (opts.byJob ? `${user.jobId}/${user.customId}` : user.customId) : wireId;
    const entry = (out[key] ??= { batch: 0, sync: 0 });
    entry.batch += sends.batch;
    entry.sync += sends.sync;
  }
  return out;
}

/** Wire ids sent in more than one batch: requests paid for twice. */
export function wireIdsSentTwice(stats: EmulatorStats): string[] {
  return Object.entries(stats.submissions)
    .filter(([id, s]) => decodeWireId(id) !== undefined && s.batch > 1)
    .map(([id]) => id);
}
