/**
 * Reads a template file: optional YAML front matter between `---` lines (the job defaults model, max_tokens,
 * system, temperature), then the body (src/domain/template.ts). Every problem is an InputError naming the
 * template file and its line.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputError } from '../domain/errors';
import type { InputIssue } from '../domain/input-issue';
import { JobDefaultsSchema, type JobDefaults } from '../domain/request';
import { parseTemplate, type Template } from '../domain/template';

export interface TemplateFile {
  template: Template;
  /** The front matter's job defaults (flags override them). */
  defaults: JobDefaults;
}

const FRONT_MATTER_KEYS = ['model', 'max_tokens', 'system', 'temperature'];

export async function readTemplateFile(file: string): Promise<TemplateFile> {
  // A missing or unreadable file is said in words by the CLI's one error handler.
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const { defaults, body, bodyLine, issues } = splitFrontMatter(text);
  const parsed = parseTemplate(body, file, bodyLine);
  const all = [...issues, ...(parsed.ok ? [] : parsed.issues)];
  if (all.length > 0 || !parsed.ok) throw new InputError(all, { file });
  return { template: parsed.template, defaults };
}

function splitFrontMatter(text: string): { defaults: JobDefaults; body: string; bodyLine: number; issues: InputIssue[] } {
  if (!text.startsWith('---\n')) return { defaults: {}, body: text, bodyLine: 1, issues: [] };
  const end = text.indexOf('\n---', 3);
  const closed = end !== -1 && (text[end + 4] === '\n' || end + 4 === text.length);
  if (!closed) return { defaults: {}, body: text, bodyLine: 1, issues: [{ line: 1, reason: 'front matter opened by --- is never closed by a --- line' }] };
  const yamlText = text.slice(4, end + 1);
  const bodyLine = yamlText.split("\n").length + 2; // the opening ---, the YAML lines, the closing ---
  const body = text.slice(end + 5);
  const issues: InputIssue[] = [];
  const doc = parseDocument(yamlText);
  const lineOf = (offset: number | undefined) => 2 + (offset === undefined ? 0 : yamlText.slice(0, offset).split('\n').length - 1);
  for (const e of doc.errors) issues.push({ line: lineOf(e.pos[0]), reason: `front matter is not valid YAML: ${e.code}` });
  if (issues.length > 0) return { defaults: {}, body, bodyLine, issues };
  const value: unknown = doc.toJS() ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) return { defaults: {}, body, bodyLine, issues: [{ line: 2, reason: 'front matter must be key: value lines' }] };
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!FRONT_MATTER_KEYS.includes(key)) issues.push({ line: keyLine(yamlText, key), field: key, reason: `is not a front matter key; use ${FRONT_MATTER_KEYS.join(', ')}` });
  }
  const known = Object.fromEntries(Object.entries(record).filter(([k]) => FRONT_MATTER_KEYS.includes(k)));
  const checked = JobDefaultsSchema.safeParse(known);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const key = String(issue.path[0] ?? '');
      issues.push({ line: keyLine(yamlText, key), field: key || undefined, reason: issue.message });
    }
  }
  return { defaults: checked.success ? checked.data : {}, body, bodyLine, issues };
}

/** The file line of a top-level key in the front matter (line 1 is the opening ---). */
function keyLine(yamlText: string, key: string): number {
  const i = yamlText.split('\n').findIndex((l) => l.startsWith(`${key}:`));
  return i === -1 ? 2 : i + 2;
}
