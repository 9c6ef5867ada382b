// Small text helpers for human messages. Hand-written rather than Intl so the output is the same in
// Node and in Temporal's workflow sandbox, whatever the locale.

/** 300123 → "300,123"; non-integers keep up to 2 decimals (1234.5 → "1,234.5"). */
export function formatInteger(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  const [whole = '0', fraction = ''] = Math.abs(n).toFixed(2).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const trimmed = fraction.replace(/0+$/, '');
  return sign + grouped + (trimmed === '' ? '' : `.${trimmed}`);
}

const SAFE_TO_QUOTE = /^[\w.:@/-]{0,40}$/;

/**
 * Describes a value for an error message without echoing free text: issues may travel through
 * workflow history, where prompt text must never go. Identifier-like strings ("system",
 * "claude-x") are quoted; other strings are described by their length only.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    return SAFE_TO_QUOTE.test(value)
      ? JSON.stringify(value)
      : `a string of ${formatInteger(value.length)} character${value.length === 1 ? '' : 's'}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value))
    return value.length === 0
      ? 'an empty array'
      : `an array of ${formatInteger(value.length)} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** ['params', 'messages', 0, 'role'] → "params.messages[0].role". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
