// Base64 checks for image data, without Buffer (domain code also runs in Temporal's workflow sandbox).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Why `data` is not standard base64 (the API's alphabet, padded), or undefined when it is. */
export function base64Problem(data: string): string | undefined {
  if (data.startsWith('data:')) return 'a data: URL; send only the base64 part and put the type in media_type';
  const bad = /[^A-Za-z0-9+/=]/.exec(data);
  if (bad) return `character ${bad.index + 1} is not in the base64 alphabet`;
  if (data.length % 4 !== 0) return `its length (${data.length}) is not a multiple of 4`;
  if (/=[^=]/.test(data) || /={3,}$/.test(data)) return '"=" padding may only end the data';
  return undefined;
}

/** The first `n` bytes `data` encodes (data already checked by base64Problem). */
function leadingBytes(data: string, n: number): number[] {
  const bytes: number[] = [];
  for (let i = 0; i + 3 < data.length && bytes.length < n; i += 4) {
    const v = [0, 1, 2, 3].map((k) => ALPHABET.indexOf(data[i + k]!));
    const word = ((v[0]! & 63) << 18) | ((v[1]! & 63) << 12) | ((Math.max(v[2]!, 0) & 63) << 6) | (Math.max(v[3]!, 0) & 63);
    bytes.push((word >> 16) & 255);
    if (v[2]! >= 0) bytes.push((word >> 8) & 255);
    if (v[3]! >= 0) bytes.push(word & 255);
  }
  return bytes.slice(0, n);
}

const SIGNATURES: { type: string; bytes: (number | null)[] }[] = [
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', bytes: [0x47, 0x49, 0x46, 0x38] },
  { type: 'image/webp', bytes: [0x52, 0x49, 0x46, 0x46, null, null, null, null, 0x57, 0x45, 0x42, 0x50] },
];

/** The image type the data's first bytes say, or undefined when they match none of the four. */
export function imageTypeOf(data: string): string | undefined {
  if (base64Problem(data) !== undefined) return undefined;
  const head = leadingBytes(data, 12);
  return SIGNATURES.find((s) => s.bytes.every((b, i) => b === null || head[i] === b))?.type;
}
