/**
 * The job report: read the store's records of a finished job, shape them, draw the page. Used by the finalize
 * activity (the report written next to the results) and by `sluice report`.
 */
import type { Client } from '@temporalio/client';
import { jobKeys } from '../domain/job';
import type { PriceTable } from '../domain/prices';
import { shapeReport } from '../domain/report-data';
import type { BlobStore } from '../store/blob-store';
import { readJobSpec } from './job-spec';
import { readReportRecords, type OutcomeReport } from './read-records';
import { renderReportHtml } from './render-html';

export { JobNotFinishedError } from './read-records';

export interface JobReportInput {
  store: BlobStore;
  jobId: string;
  /** The job's workflow id, when it is not the job id. */
  workflowId?: string;
  prices: PriceTable;
  /** Reads the job's options from its start event; without it (or its history) the page says they are unknown. */
  client?: Client;
  runId?: string;
  webUiLink?: string;
  onProgress?: (outcomes: number) => void;
  /** The outcomes already folded while results.jsonl was written (the finalize activity): the file is not read again. */
  folded?: OutcomeReport;
}

export async function buildJobReport(i: JobReportInput): Promise<string> {
  const spec = i.client
    ? await readJobSpec(i.client, i.workflowId ?? i.jobId, i.runId).catch(() => undefined)
    : undefined;
  const records = await readReportRecords({ ...i, spec }, i.folded);
  return renderReportHtml(shapeReport(records));
}

/** Writes the report to the store, next to the results (jobs/<id>/output/report.html); returns its key. */
export async function writeJobReport(i: JobReportInput): Promise<string> {
  const key = jobKeys.output(i.jobId, 'report.html');
  await i.store.writeLines(key, (await buildJobReport(i)).split('\n'));
  return key;
}
