/**
 * An intake's jobs, started and heard from without a workflow event in the intake between its tasks: the intake starts
 * each job by this activity (not as a child, whose start and end would be events of the intake's run), and a job tells
 * the intake it ended by an update (not a signal). Events that arrive while the intake's continue-as-new task runs
 * fail that task (Temporal's UnhandledCommand) and make the worker replay the whole run; measured at a few seconds
 * per replay under load, and a burst of job ends kept failing it again. An update that arrives then is handed to the
 * next run instead.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { ReportJobEndedInput, StartIntakeJobInput } from '../contracts/activities';
import { subBatchDoneUpdate } from '../contracts/messages';
import { isRetryableUpdateError } from '../client/update-retry';
import type { sluiceJob } from '../workflows/job';

/** Below the activity's 30 s start-to-close: then the activity's own retry (a few attempts) takes over. */
const REPORT_PATIENCE_MS = 20_000;

export function intakeJobActivities() {
  return {
    /** Idempotent: a second attempt finds the job started (or ended) under its id and starts nothing. */
    startIntakeJob: async ({ spec, taskQueue, staticSummary }: StartIntakeJobInput): Promise<void> => {
      try {
        await Context.current().client.workflow.start<typeof sluiceJob>('sluiceJob', {
          workflowId: spec.jobId,
          taskQueue,
          args: [{ spec }],
          // An id that ran once never runs again: a retried start after the job ended must not pay for it twice.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          staticSummary,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return;
        throw err;
      }
    },

    /** Idempotent by the update id (one per job); an intake gone is no one to tell (its describe fallback is moot). */
    reportJobEnded: async ({ intakeWorkflowId, jobId }: ReportJobEndedInput): Promise<void> => {
      const { client } = Context.current();
      const handle = client.workflow.getHandle(intakeWorkflowId);
      const giveUpAt = Date.now() + REPORT_PATIENCE_MS;
      for (;;) {
        try {
          // One call may wait for the update's acceptance for long (a stuck intake): bounded, so no attempt outlives
          // the activity's timeout with a call still running. Past the deadline it throws and the activity retries.
          await client.withDeadline(giveUpAt, () =>
            handle.executeUpdate(subBatchDoneUpdate, { args: [{ jobId }], updateId: `ended-${jobId}` }),
          );
          return;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return;
          // The intake's ten updates in flight taken by enqueues, or handed to its next run: soon again, not after
          // the activity's backoff (seconds, during which the intake would not know the job ended).
          if (!isRetryableUpdateError(err) || Date.now() > giveUpAt) throw err;
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
        }
      }
    },
  };
}
