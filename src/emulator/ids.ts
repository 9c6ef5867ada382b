/** Identifiers the emulator mints. Random (not seeded), so ids never collide across restarts. */
import { randomBytes } from 'node:crypto';
import { BASE62 } from './prng';

function randomBase62(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += BASE62[byte % 62];
  return out;
}

/** Like the real ids (`msgbatch_01...`); clients must never parse them. */
export function newBatchId(): string {
  return `msgbatch_01${randomBase62(22)}`;
}

export function newRequestId(): string {
  return `req_01${randomBase62(22)}`;
}
