/** The job's output check as the activities apply it: the schema read from the store once per job and compiled. */
import { ApplicationFailure } from '@temporalio/common';
import { jobKeys, type OutputCheckOptions } from '../domain/job';
import type { SchemaCheck } from '../domain/output-check';
import { compileSchema } from '../domain/output-schema';
import type { BlobStore } from '../store/blob-store';

export type CompiledCheck = { schema?: SchemaCheck };

/** Compiled schemas by job id: collect runs once per batch, the schema is the same for the whole job. */
const compiledChecks = new Map<string, CompiledCheck>();
const COMPILED_CHECKS_KEPT = 50;

export async function outputCheckOf(store: BlobStore, jobId: string, opts: OutputCheckOptions): Promise<CompiledCheck> {
  if (!opts.schema) return {};
  const known = compiledChecks.get(jobId);
  if (known) return known;
  const schema = await store.readJson<unknown>(jobKeys.outputSchema(jobId));
  if (schema === undefined) {
    throw ApplicationFailure.nonRetryable(`the job's output schema is missing from the store (${jobKeys.outputSchema(jobId)})`, 'OutputSchemaMissing');
  }
  const compiled = { schema: compileSchema(schema, 'the job\'s output schema') };
  if (compiledChecks.size >= COMPILED_CHECKS_KEPT) compiledChecks.delete(compiledChecks.keys().next().value!);
  compiledChecks.set(jobId, compiled);
  return compiled;
}
