/**
 * The job's messages, in and out: the progress query, the cancel signal, the budget update, and the signal that
 * tells an intake its sub-batch job ended (an update, sent by an activity, in jobs with patch job-end-by-update). Handlers only change the state and wake the loop; job.ts acts on it.
 */
import { getExternalWorkflowHandle, patched, setHandler } from '@temporalio/workflow';
import type { JobProgress } from '../contracts/activities';
import { cancelSignal, progressQuery, setBudgetUpdate, subBatchDoneSignal } from '../contracts/messages';
import { newLimitProblem, withLimit } from '../domain/budget';
import { acts } from './job-activities';
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

/** patched() id: the end is reported by an update from an activity, not a signal (src/activities/intake-jobs.ts). */
const END_BY_UPDATE = 'job-end-by-update';

/** Tells the intake that cut this job that it ended; an intake gone or closed polls instead, so a failure is fine. */
export async function reportEnd(workflowId: string, jobId: string): Promise<void> {
  try {
    if (patched(END_BY_UPDATE)) {
      // A few attempts: an intake that stays unreachable finds the job ended by its describe fallback.
      await acts.reportJobEnded.executeWithOptions(
        { startToCloseTimeout: '30s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 }, summary: `tell ${workflowId} the job ended` },
        [{ intakeWorkflowId: workflowId, jobId }],
      );
    } else {
      await getExternalWorkflowHandle(workflowId).signal(subBatchDoneSignal, { jobId });
    }
  } catch {
    // Nobody to tell: the intake's fallback describe finds the job ended.
  }
}
