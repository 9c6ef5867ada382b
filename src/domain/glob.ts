/**
 * Just enough glob for audit inputs: `*` and `?` within one path segment, `**` across segments, `{a,b}`
 * alternatives. Paths use forward slashes.
 */

export function hasGlobMagic(pattern: string): boolean {
  return /[*?{]/.test(pattern);
}

/** The leading part of a pattern without magic, where a directory walk starts: `data/2026/` of `data/2026/*.jsonl`. */
export function globBase(pattern: string): string {
  const segments = pattern.split('/');
  const firstMagic = segments.findIndex(hasGlobMagic);
  if (firstMagic === -1) return pattern;
  return segments.slice(0, firstMagic).join('/') + (firstMagic > 0 ? '/' : '');
}

export function globToRegExp(pattern: string): RegExp {
  let out = '';
  let inBraces = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more whole directories; a trailing `**` anything.
        const slash = pattern[i + 2] === '/';
        out += slash ? '(?:[^/]*/)*' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '{') {
      inBraces = true;
      out += '(?:';
    } else if (ch === '}' && inBraces) {
      inBraces = false;
      out += ')';
    } else if (ch === ',' && inBraces) out += '|';
    else out += ch.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
