/**
 * The account behind an API key, as a name Sluice can put in workflow ids: the API's limits (the batch queue's cap,
 * the list endpoint) are per account, so the workflows that share them are one per key. A prefix of the key's
 * sha256, never the key itself: workflow ids are shown in the Web UI and kept in histories.
 */
import { createHash } from 'node:crypto';

export function accountFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex').slice(0, 16);
}
