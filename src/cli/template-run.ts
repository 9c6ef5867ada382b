/**
 * `sluice run ROWS --template FILE [--id-column C] [--pack N]`: checks the flags and the template before anything
 * connects, and gives the job its defaults (flags over the template's front matter) and its request lines.
 */
import { InputError } from '../domain/errors';
import { UsageError } from '../domain/errors';
import { MAX_BATCH_BODY_BYTES } from '../domain/limits';
import type { JobDefaults } from '../domain/request';
import { readTemplateFile } from '../client/template-file';
import { templateLines, templatePackIssues, type SourceLine } from '../client/template-input';

export const MAX_PACK = 1_000;

export interface TemplateFlags {
  template?: string;
  idColumn?: string;
  pack?: number;
}

export interface TemplateRun {
  defaults: JobDefaults;
  lines: (rowsFile: string) => AsyncIterable<SourceLine>;
}

/** Undefined without --template; throws a UsageError or InputError (located in the template) when something is wrong. */
export async function templateRun(flags: TemplateFlags, flagDefaults: JobDefaults): Promise<TemplateRun | undefined> {
  if (flags.template === undefined) {
    if (flags.pack !== undefined) throw new UsageError('--pack needs --template: rows are packed into prompts made from a template');
    if (flags.idColumn !== undefined) throw new UsageError('--id-column needs --template: it names the key column of the rows file');
    return undefined;
  }
  if (flags.pack !== undefined && (flags.pack < 1 || flags.pack > MAX_PACK)) throw new UsageError(`--pack must be 1..${MAX_PACK} (got ${flags.pack})`);
  if (flags.idColumn !== undefined && flags.idColumn.trim() === '') throw new UsageError('--id-column: must not be empty');
  const { template, defaults } = await readTemplateFile(flags.template);
  const packProblems = templatePackIssues(template, flags.pack);
  if (packProblems.length > 0) throw new InputError(packProblems, { file: flags.template });
  const merged: JobDefaults = { ...defaults };
  for (const [k, v] of Object.entries(flagDefaults) as [keyof JobDefaults, never][]) if (v !== undefined) merged[k] = v;
  return {
    defaults: merged,
    lines: (rowsFile) => templateLines({ rowsFile, template, idColumn: flags.idColumn, pack: flags.pack, maxLineBytes: MAX_BATCH_BODY_BYTES }),
  };
}
