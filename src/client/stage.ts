/**
 * Stages a job's requests from client code: validated and stored like `sluice run` does, ready for a workflow to
 * run as a child job (`runSluiceJob({ input: { staged } })`), so the prompts never enter that workflow's history.
 */
import type { StagedInput } from '../contracts/activities';
import type { JobDefaults } from '../domain/request';
import type { BlobStore } from '../store/blob-store';
import { prepareInput } from './prepare-input';

export interface StageRequestsOptions {
  store: BlobStore;
  /** The id the job will run under (its store keys are named after it). */
  jobId: string;
  /** The JSONL input file. */
  file: string;
  defaults?: JobDefaults;
  skipInvalid?: boolean;
}

/** Throws an InputError naming every bad line (file, line, field, reason) and stores nothing, unless skipInvalid. */
export async function stageRequests(o: StageRequestsOptions): Promise<StagedInput> {
  const prepared = await prepareInput(o);
  return { ...prepared, source: o.file };
}
