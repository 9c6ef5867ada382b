/**
 * Text for a terminal: control characters (which can clear the screen or move the cursor) and invisible ones
 * (zero-width, bidirectional overrides, soft hyphens: they make "a\u200Bb" read like "ab") are shown as escapes,
 * so what is printed is what is there. Newlines and tabs of our own messages stay.
 */
// C0 controls but \t and \n, DEL, C1 controls; soft hyphen, combining grapheme joiner, Hangul fillers, zero-width
// and bidi marks, line/paragraph separators, word joiners and invisible operators, bidi isolates, BOM.
const UNSAFE =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- matching these characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u034F\u115F\u1160\u180E\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]/g;

export function forTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
