// What the Message Batches API imposes on one create call (see shared/message-batches-api.md).

/** Most requests in one Message Batch. */
export const MAX_REQUESTS_PER_BATCH = 100_000;

/** Sluice's default sub-batch size: small batches end sooner and a failure costs less. */
export const DEFAULT_REQUESTS_PER_BATCH = 100;

/**
 * Largest create body. The API says "256 MB"; we read it as decimal megabytes (256,000,000), the
 * stricter of the two readings, so a proxy counting either way accepts our bodies.
 */
export const MAX_BATCH_BODY_BYTES = 256_000_000;

/** Bytes of `{"requests":[` + `]}` around the items of a create body. */
export const BATCH_BODY_ENVELOPE_BYTES = '{"requests":[]}'.length;

/** Most characters in a custom_id. */
export const MAX_CUSTOM_ID_LENGTH = 64;

/**
 * Bytes one item adds around its params: `{"custom_id":"` + id (counted at its longest, 64) +
 * `","params":` + `}` + the `,` between items. Counting the longest id makes a request's size
 * independent of the id it ends up with, so sizes computed at validation time stay true.
 */
export const REQUEST_ENVELOPE_BYTES = '{"custom_id":"","params":},'.length + MAX_CUSTOM_ID_LENGTH;

/** Default byte budget for the items of one sub-batch. */
export const DEFAULT_MAX_BATCH_BYTES = MAX_BATCH_BODY_BYTES - BATCH_BODY_ENVELOPE_BYTES;

/**
 * UTF-8 length of a string (what it weighs in a request body), counted from its UTF-16 code units: the same number
 * as TextEncoder's output length (a lone surrogate becomes U+FFFD, 3 bytes), without encoding every request.
 */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}
