// "Did you mean ...?" for misspelt field names: the closest known name within a small edit distance.

/** Edit distance (insert, delete, substitute, swap two neighbours), capped at `max + 1` to stay cheap. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known name `word` most likely stands for, or undefined. Case and `-` vs `_` are ignored; names of up
 * to 4 characters allow one edit, longer ones two (so "max_token" → "max_tokens", "temprature" → "temperature").
 */
export function suggestName(word: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  const w = norm(word);
  const max = w.length <= 4 ? 1 : 2;
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = editDistance(w, norm(name), max);
    if (d <= max && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** ' (did you mean "x"?)', or '' when nothing is close. */
export function didYouMean(word: string, known: readonly string[]): string {
  const guess = suggestName(word, known);
  return guess === undefined ? '' : ` (did you mean "${guess}"?)`;
}
