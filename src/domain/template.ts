/**
 * Prompt templates: `{{column}}` placeholders filled from one row, and an optional `{{#each}} ... {{/each}}` block,
 * the per-item part, that `--pack N` repeats once per row (numbered by `{{@n}}`). Pure: the template's text in,
 * the prompt's text out; the front matter (job defaults) is read by the client (src/client/template-file.ts).
 */
import type { InputIssue } from './input-issue';

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'field'; name: string; line: number }
  | { kind: 'number'; line: number };

export interface Template {
  /** The template file as the user named it, for messages. */
  file: string;
  before: TemplatePart[];
  /** The per-item block, when the template has one. */
  each?: TemplatePart[];
  after: TemplatePart[];
  /** Every column used, with the first template line that uses it. */
  fields: { name: string; line: number }[];
}

const TAG = /\{\{\s*([^{}]*?)\s*\}\}/g;
const FIELD_NAME = /^[^#/@{}][^{}]*$/;

/** Parses a template body; `firstLine` is the body's first line in the file (after any front matter). */
export function parseTemplate(body: string, file: string, firstLine = 1): { ok: true; template: Template } | { ok: false; issues: InputIssue[] } {
  const issues: InputIssue[] = [];
  const parts: { before: TemplatePart[]; each?: TemplatePart[]; after: TemplatePart[] } = { before: [], after: [] };
  let target = parts.before;
  let state: 'before' | 'each' | 'after' = 'before';
  let eachLine = 0;
  const fields = new Map<string, number>();
  const lineAt = (offset: number) => firstLine + countNewlines(body, 0, offset);
  let last = 0;
  for (const m of body.matchAll(TAG)) {
    const at = m.index;
    const line = lineAt(at);
    if (at > last) target.push({ kind: 'text', text: body.slice(last, at) });
    last = at + m[0].length;
    const tag = m[1]!;
    // A block tag alone on its line takes its line break with it, so the block renders as the lines between.
    if ((tag === '#each' || tag === '/each') && body[last] === '\n') last++;
    if (tag === '#each') {
      if (state !== 'before') issues.push({ line, reason: state === 'each' ? '{{#each}} inside {{#each}}: blocks do not nest' : 'a second {{#each}} block: a template has at most one' });
      else {
        state = 'each';
        eachLine = line;
        parts.each = [];
        target = parts.each;
      }
    } else if (tag === '/each') {
      if (state !== 'each') issues.push({ line, reason: '{{/each}} without an {{#each}} before it' });
      else {
        state = 'after';
        target = parts.after;
      }
    } else if (tag === '@n') {
      if (state !== 'each') issues.push({ line, reason: '{{@n}} (the item number) is only meaningful inside the {{#each}} block' });
      else target.push({ kind: 'number', line });
    } else if (FIELD_NAME.test(tag)) {
      target.push({ kind: 'field', name: tag, line });
      if (!fields.has(tag)) fields.set(tag, line);
    } else {
      issues.push({ line, reason: `{{${tag}}}: not a placeholder; use {{column}}, {{#each}} ... {{/each}} or {{@n}}` });
    }
  }
  if (last < body.length) target.push({ kind: 'text', text: body.slice(last) });
  if (state === 'each') issues.push({ line: eachLine, reason: '{{#each}} is never closed by {{/each}}' });
  if (body.trim() === '') issues.push({ line: firstLine, reason: 'the template has no text' });
  if (issues.length > 0) return { ok: false, issues };
  const template: Template = { file, ...parts, fields: [...fields].map(([name, line]) => ({ name, line })) };
  return { ok: true, template };
}

/** With --pack every field must be inside the block: outside it, which row's value would it be? */
export function packIssues(t: Template): InputIssue[] {
  if (!t.each) return [{ line: 1, reason: '--pack needs the per-item part marked: put it between {{#each}} and {{/each}} (docs/templates.md)' }];
  return [...t.before, ...t.after]
    .filter((p): p is Extract<TemplatePart, { kind: 'field' }> => p.kind === 'field')
    .map((p) => ({ line: p.line, reason: `{{${p.name}}} is outside the {{#each}} block: with --pack every row's column goes inside it` }));
}

/** The columns a row lacks, each located in the rows file and in the template. */
export function missingFieldIssues(t: Template, row: Readonly<Record<string, string | undefined>>, rowLine: number): InputIssue[] {
  return t.fields
    .filter((f) => row[f.name] === undefined)
    .map((f) => ({ line: rowLine, field: `column "${f.name}"`, reason: `missing, used by ${t.file}:${f.line}` }));
}

/** The prompt for one row alone: the block (if any) rendered once, numbered 1, and no answer format asked. */
export function renderSingle(t: Template, row: Readonly<Record<string, string | undefined>>): string {
  return [...t.before, ...(t.each ?? []), ...t.after].map((p) => renderPart(p, row, 1)).join('');
}

/** The prompt for several rows: the block once per row, numbered from 1, then the answer format asked for. */
export function renderPacked(t: Template, rows: readonly Readonly<Record<string, string | undefined>>[]): string {
  const none = {};
  const items = rows.map((row, i) => (t.each ?? []).map((p) => renderPart(p, row, i + 1)).join('')).join('');
  const text = t.before.map((p) => renderPart(p, none, 0)).join('') + items + t.after.map((p) => renderPart(p, none, 0)).join('');
  return `${text.trimEnd()}\n\n${packInstruction(rows.length)}`;
}

/**
 * What a packed prompt asks for. The emulator recognises this sentence to answer with an array of that length,
 * so changing its wording means changing src/emulator/pack-answers.ts too.
 */
export function packInstruction(items: number): string {
  return `Answer each of the ${items} items above. Reply with only a JSON array of exactly ${items} elements, in the items' order: element 1 answers item 1, and so on.`;
}

function renderPart(p: TemplatePart, row: Readonly<Record<string, string | undefined>>, n: number): string {
  if (p.kind === 'text') return p.text;
  if (p.kind === 'number') return String(n);
  return row[p.name] ?? '';
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
