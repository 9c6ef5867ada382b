/**
 * `sluice run`'s flags that guard spending on bad answers: `--canary [N]`, `--canary-max-failures PCT`,
 * `--expect json` and `--schema FILE`. Checked before anything connects or is sent (exit 2 naming the flag or the
 * file); a canary larger than the job is checked once the input is read (startJob).
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { DEFAULT_CANARY_MAX_FAILURE_PERCENT, DEFAULT_CANARY_REQUESTS } from '../domain/canary';
import { ConfigError } from '../domain/errors';
import type { JobOptionsInput } from '../domain/job';
import { compileSchema, parseSchemaText } from '../domain/output-schema';
import { describeFileError, UsageError } from './errors';
import { int } from './parse';

export interface SpendFlags {
  canary?: true | number;
  canaryMaxFailures?: string;
  expect?: 'json' | 'text';
  schema?: string;
}

export function addSpendOptions(command: Command): Command {
  return command
    .option('--canary [n]', `send the first N requests alone (default ${DEFAULT_CANARY_REQUESTS}) and stop the job if too many fail`, int('--canary'))
    .option('--canary-max-failures <percent>', `the share of the canary that may fail before the job stops, 0-100 % (default ${DEFAULT_CANARY_MAX_FAILURE_PERCENT} %)`)
    .addOption(new Option('--expect <kind>', "json: every answer's text must parse as JSON (a ```json fence is tolerated); text: any answer").choices(['json', 'text']))
    .option('--schema <file>', 'a JSON Schema every answer (parsed as JSON) must satisfy; implies --expect json');
}

/** "10", "10%", "12.5 %" → 12.5; anything else, or outside 0..100, is a UsageError naming the flag. */
export function parsePercent(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`${flag} ${value}: must be a percentage from 0 to 100, e.g. 10 or 10%`);
  return n;
}

export interface SpendSettings {
  options: Pick<JobOptionsInput, 'canary' | 'outputCheck'>;
  /** The parsed schema, checked, and the name errors give it. */
  outputSchema?: unknown;
  outputSchemaSource?: string;
}

/** The job options and schema the flags ask for; throws UsageError/ConfigError naming the flag or the file. */
export async function spendSettingsFrom(flags: SpendFlags): Promise<SpendSettings> {
  const options: SpendSettings['options'] = {};
  if (flags.canaryMaxFailures !== undefined && flags.canary === undefined) {
    throw new UsageError('--canary-max-failures: needs --canary (it is the share of the canary that may fail)');
  }
  if (flags.canary !== undefined) {
    const requests = flags.canary === true ? DEFAULT_CANARY_REQUESTS : flags.canary;
    if (requests < 1) throw new UsageError(`--canary ${requests}: must be at least 1 request`);
    const maxFailurePercent = flags.canaryMaxFailures === undefined ? undefined : parsePercent(flags.canaryMaxFailures, '--canary-max-failures');
    options.canary = { requests, maxFailurePercent };
  }
  if (flags.expect === 'text' && flags.schema !== undefined) {
    throw new UsageError(`--expect text disagrees with --schema ${flags.schema}: a schema checks answers parsed as JSON; drop --expect text (or give --expect json)`);
  }
  if (flags.expect === 'json') options.outputCheck = { expect: 'json' };
  if (flags.schema === undefined) return { options };
  const where = `--schema ${flags.schema}`;
  let text: string;
  try {
    text = await readFile(flags.schema, 'utf8');
  } catch (err) {
    throw new UsageError(`${where}: ${describeFileError(err)?.replace(/^.*?: /, '') ?? 'cannot be read'}`, { cause: err });
  }
  const outputSchema = parseSchemaText(text, where);
  compileSchema(outputSchema, where);
  options.outputCheck = { expect: 'json', schema: true };
  return { options, outputSchema, outputSchemaSource: where };
}

/** The canary check startJob makes once it knows the job's size, said with the flag. */
export function asSpendFlagError(err: unknown): unknown {
  if (err instanceof ConfigError && err.field === 'canary') return new ConfigError('--canary', err.reason, { cause: err });
  return err;
}
