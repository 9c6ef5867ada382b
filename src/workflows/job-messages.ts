/**
 * The job's messages, in and out: the progress query, the cancel signal, the budget update, and the signal that
 * tells an intake its sub-batch job ended. Handlers only change the state and wake the loop; job.ts acts on it.
 */
import { getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import type { JobProgress } from '../contracts/activities';
import { cancelSignal, progressQuery, setBudgetUpdate, subBatchDoneSignal } from '../contracts/messages';
import { newLimitProblem, withLimit } from '../domain/budget';
import { budgetViewOf } from './job-budget';
import type { JobState } from './job-state';

export interface JobHandlers {
  progress: () => JobProgress;
  /** The one way in for a cancel, by signal or by Temporal cancellation: the loop carries it out at its next round. */
  requestCancel: () => void;
  wake: () => void;
}

export function setJobHandlers(s: JobState, h: JobHandlers): void {
  setHandler(progressQuery, h.progress);
  setHandler(cancelSignal, h.requestCancel);
  // Jobs with a budget keep a ledger; `sluice budget` sets a new limit, checked before it is accepted.
  setHandler(
    setBudgetUpdate,
    ({ budgetUsd }) => {
      s.budget = withLimit(s.budget!, budgetUsd);
      h.wake();
      return budgetViewOf(s)!;
    },
    {
      validator: ({ budgetUsd }: { budgetUsd: number }) => {
        const problem = s.budget ? newLimitProblem(s.budget, budgetUsd) : 'this job was started without a budget (--budget)';
        if (problem) throw new Error(problem);
      },
    },
  );
}

/** Tells the intake that cut this job that it ended; an intake gone or closed polls instead, so a failure is fine. */
export async function reportEnd(workflowId: string, jobId: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(subBatchDoneSignal, { jobId });
  } catch {
    // Nobody to tell: the intake's fallback describe finds the job ended.
  }
}
