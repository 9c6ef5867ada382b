/**
 * A short, non-reversible name for an API key: the account-wide coordinators (poller, scheduler) are keyed by it, so
 * workflows can tell accounts apart without the key ever entering history, ids or logs.
 */
import { createHash } from 'node:crypto';

/** The first 16 hex digits (64 bits) of the key's sha256: enough to tell keys apart, too little to recover one. */
export function accountFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
