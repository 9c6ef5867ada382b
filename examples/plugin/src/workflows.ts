// The project's own workflow: it runs a Sluice job as a child workflow and awaits its summary. The worker reads
// the prompts file and stores the requests (the stageRequests activity); this history holds only keys and counts.
import { proxyActivities } from '@temporalio/workflow';
import { startSluiceJob } from 'sluice/workflows';
import type * as activities from './activities';

const { publishDigest } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export interface DigestResult {
  jobId: string;
  requests: number;
  succeeded: number;
  /** The job's phase when the workflow first asked (through Sluice's progress activity). */
  firstPhase: string;
  announcement: string;
}

export async function nightlyDigest(input: { file: string }): Promise<DigestResult> {
  const job = await startSluiceJob({
    name: 'nightly-digest',
    input: { file: input.file },
    defaults: { model: 'claude-haiku-4-5', max_tokens: 128 },
    // Sub-batches of 2 so that this small example sends several; a poll every second while batches are young.
    options: { batchSize: 2, poll: { initialMs: 1_000 } },
  });
  const { phase } = await job.progress();
  const summary = await job.result();
  const announcement = await publishDigest({ jobId: job.jobId, succeeded: summary.outcomes.succeeded, costUsd: summary.costUsd });
  return { jobId: job.jobId, requests: summary.requests, succeeded: summary.outcomes.succeeded, firstPhase: phase, announcement };
}
