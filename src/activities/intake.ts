/**
 * The intake's I/O: cutting buffered requests (whose bodies the client wrote to segments in the store) into a
 * job's input, and checking which of its sub-batch jobs have finished, with their outcomes.
 */
import { Context } from '@temporalio/activity';
import { jobKeys, type NormalizedRequest, type OutcomeLine } from '../domain/job';
import type { ActivityDeps } from './deps';
import type { CheckIntakeJobsInput, CutInput, FinishedJob, JobSummary } from '../contracts/activities';
import { intakeKeys } from '../contracts/store-keys';

// Moved to src/contracts; re-exported so existing imports keep working.
export { intakeKeys };


export function intakeActivities({ store }: ActivityDeps) {
  return {
    async cutIntakeShard(input: CutInput): Promise<{ inputKey: string; requestCount: number }> {
      const wanted = new Map(input.items.map((i, n) => [i.customId, n]));
      const picked = new Array<NormalizedRequest | undefined>(input.items.length);
      for (const segment of new Set(input.items.map((i) => i.segment))) {
        for await (const text of store.readLines(segment)) {
          const request = JSON.parse(text) as NormalizedRequest;
          const at = wanted.get(request.custom_id);
          if (at !== undefined && !picked[at]) picked[at] = request;
        }
      }
      const missing = input.items.filter((_, n) => !picked[n]).map((i) => i.customId);
      if (missing.length) throw new Error(`Intake ${input.intake}: no stored body for ${missing.slice(0, 5).join(', ')}`);
      const inputKey = jobKeys.input(input.jobId);
      await store.writeLines(
        inputKey,
        picked.map((r, n) => JSON.stringify({ ...r!, line: n + 1 })),
      );
      return { inputKey, requestCount: picked.length };
    },

    async checkIntakeJobs(input: CheckIntakeJobsInput): Promise<{ finished: FinishedJob[] }> {
      const client = Context.current().client;
      const finished: FinishedJob[] = [];
      for (const job of input.jobs) {
        // A job that signalled has written its summary; one that did not is asked.
        if (!job.ended) {
          const { status } = await client.workflow.getHandle(job.jobId).describe();
          if (status.name === 'RUNNING') continue;
        }
        const summary = await store.readJson<JobSummary>(jobKeys.output(job.jobId, 'summary.json'));
        const statuses: Record<string, string> = {};
        const targets = job.notifyKey ? ((await store.readJson<[string, string][]>(job.notifyKey)) ?? []) : [];
        const notify = new Set([...job.notifyIds, ...targets.map(([id]) => id)]);
        const failures: string[] = [];
        if (summary) {
          for await (const text of store.readLines(jobKeys.output(job.jobId, 'failures.jsonl'))) failures.push(text);
          if (notify.size) {
            for await (const text of store.readLines(jobKeys.output(job.jobId, 'results.jsonl'))) {
              const o = JSON.parse(text) as OutcomeLine;
              if (notify.has(o.custom_id)) statuses[o.custom_id] = o.status;
            }
          }
        }
        // The dead-letter file: requests that failed for good, with the API's reason.
        if (failures.length) await store.writeLines(intakeKeys.deadLetter(input.intake, job.jobId), failures);
        const o = summary?.outcomes;
        finished.push({
          jobId: job.jobId,
          succeeded: o?.succeeded ?? 0,
          failed: o?.failed ?? 0,
          other: o ? o.canceled + o.sla_missed + o.not_run : 0,
          costUsd: summary?.costUsd ?? 0,
          statuses,
          ...(job.notifyKey ? { notify: targets.map(([id, workflowId]) => ({ custom_id: id, workflowId, status: statuses[id] ?? 'unknown' })) } : {}),
        });
      }
      return { finished };
    },
  };
}
