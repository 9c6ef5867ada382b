// Sluice's own errors: one base, subclasses carrying the fields a user needs to act.
// Activities turn them into ApplicationFailures; the CLI turns them into messages and exit codes.
import type { z } from 'zod';
import { formatPath } from './format';
import type { InputIssue } from './request';

export class SluiceError extends Error {
  override name = 'SluiceError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** How many issues an InputError's message lists before "... and N more". */
export const LISTED_ISSUES = 20;

/** "input.jsonl:4: params.model: is required" (or "line 4: ..." without a file). */
export function formatInputIssue(issue: InputIssue, file?: string): string {
  const where = file === undefined ? `line ${issue.line}` : `${file}:${issue.line}`;
  return issue.field === undefined ? `${where}: ${issue.reason}` : `${where}: ${issue.field}: ${issue.reason}`;
}

/** Bad input lines, all of them in `issues`; the message lists the first `listed`. */
export class InputError extends SluiceError {
  override name = 'InputError';
  readonly issues: InputIssue[];
  readonly file: string | undefined;

  constructor(issues: InputIssue[], options: { file?: string; listed?: number; cause?: unknown } = {}) {
    const listed = options.listed ?? LISTED_ISSUES;
    const lines = new Set(issues.map((issue) => issue.line)).size;
    const subject = options.file ?? 'input';
    const head = `${subject}: ${lines} bad line${lines === 1 ? '' : 's'} (${issues.length} issue${issues.length === 1 ? '' : 's'})`;
    const shown = issues.slice(0, listed).map((issue) => `  ${formatInputIssue(issue, options.file)}`);
    const more = issues.length > listed ? [`  ... and ${issues.length - listed} more`] : [];
    super([head, ...shown, ...more].join('\n'), { cause: options.cause });
    this.issues = issues;
    this.file = options.file;
  }
}

/** A bad option or configuration value: `field` names it as the user wrote it ("sla", "prices.x"). */
export class ConfigError extends SluiceError {
  override name = 'ConfigError';
  readonly field: string;
  readonly reason: string;

  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super(`${field}: ${reason}`, options);
    this.field = field;
    this.reason = reason;
  }
}

/** Turns zod issues into one ConfigError; `prefix` names the option group ("split", "prices"). */
export function configErrorFromZod(error: z.ZodError, prefix?: string): ConfigError {
  const described = error.issues.map((issue) => ({
    field: formatPath([...(prefix === undefined ? [] : [prefix]), ...issue.path]) || (prefix ?? 'config'),
    reason: issue.message,
  }));
  const [first, ...rest] = described;
  const also = rest.map((d) => `; also ${d.field}: ${d.reason}`).join('');
  return new ConfigError(first?.field ?? prefix ?? 'config', (first?.reason ?? 'is invalid') + also, { cause: error });
}

/** Parses `value` with `schema`, throwing a ConfigError that names the field. */
export function parseConfig<T extends z.ZodType>(schema: T, value: unknown, prefix?: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw configErrorFromZod(result.error, prefix);
  return result.data;
}

/** A command used wrongly (a bad flag, an id that is not a job's, output in the way): exit code 2. */
export class UsageError extends SluiceError {
  override name = 'UsageError';
}
