// Duplicate keys in JSON text. JSON.parse keeps the last of two equal keys without a word, so a line with
// "max_tokens" twice would be sent with a value its author may not have meant: Sluice refuses it instead.

/** Where a key repeats: the path of the object holding it (as formatPath parts) and the key. */
export interface DuplicateKey {
  path: (string | number)[];
  key: string;
}

interface Frame {
  kind: 'object' | 'array';
  keys: Set<string> | null;
  /** The key or index this container sits under in its parent. */
  at: string | number | null;
  index: number;
  pendingKey: string | null;
}

/**
 * The first duplicate key in `text` (valid JSON, already parsed once), or undefined. Iterative, so deeply
 * nested input cannot exhaust the stack. Returns undefined for text that is not valid JSON.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;
  const pathOf = (): (string | number)[] => stack.slice(1).map((f) => f.at!);
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\') j++;
        j++;
      }
      const raw = text.slice(i, j + 1);
      i = j + 1;
      const top = stack.at(-1);
      // A string is a key when it sits in an object and a ':' follows.
      let k = i;
      while (k < n && /\s/.test(text[k]!)) k++;
      if (top?.kind === 'object' && text[k] === ':') {
        let key: string;
        try {
          key = JSON.parse(raw) as string;
        } catch {
          return undefined;
        }
        if (top.keys!.has(key)) return { path: pathOf(), key };
        top.keys!.add(key);
        top.pendingKey = key;
        i = k + 1;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      const parent = stack.at(-1);
      const at = parent === undefined ? null : parent.kind === 'object' ? parent.pendingKey : parent.index;
      stack.push({ kind: c === '{' ? 'object' : 'array', keys: c === '{' ? new Set() : null, at, index: 0, pendingKey: null });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'array') top.index++;
    }
    i++;
  }
  return undefined;
}
