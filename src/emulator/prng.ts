/**
 * Small seeded pseudo-random helpers. Everything the emulator draws at random (latencies, faults, result
 * order) comes from here, so one seed reproduces a whole run. Pure: no I/O, no global state.
 */

/** A generator of floats in [0, 1). */
export type Random = () => number;

/** mulberry32: a tiny 32-bit PRNG, plenty for simulation (not for secrets). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a over the UTF-16 code units of a string, 32 bits. */
export function hashString(text: string, basis = 0x811c9dc5): number {
  let hash = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Derives an independent 32-bit seed from a parent seed and any number of labels (splitmix-style finaliser). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let x = hashString(labels.join('\u0000'), (seed ^ 0x9e3779b9) >>> 0);
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** A random generator seeded from a parent seed and labels. */
export function randomFor(seed: number, ...labels: (string | number)[]): Random {
  return mulberry32(deriveSeed(seed, ...labels));
}

/** A standard normal draw (Box–Muller). */
export function normal(random: Random): number {
  const u = 1 - random(); // (0, 1]
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A seeded permutation of 0..n-1 (Fisher–Yates); 4 bytes per item. */
export function permutation(n: number, random: Random): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` base-62 characters drawn from `random`. */
export function base62(random: Random, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[Math.floor(random() * 62)];
  return out;
}
