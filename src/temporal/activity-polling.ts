/**
 * How a Worker takes its activity tasks when the server dispatches them eagerly (docs/performance.md, "Activity
 * pollers"). Every open activity poll holds a slot, and a held slot cannot be reserved for eager dispatch: the SDK's
 * default of min(10, slots) polls left a worker with 24 slots room for 13 eager activities. One poll while eager
 * dispatch serves the lanes; more only while the server reports a backlog (a cluster without eager dispatch, retries,
 * lanes past the free slots), so a worker far from its server is not held to one task per round trip.
 */
import type { WorkerOptions } from '@temporalio/worker';

export function eagerFriendlyActivityPolling(
  slots: number,
  maxPollers = 10,
): Pick<WorkerOptions, 'activityTaskPollerBehavior' | 'maxEagerActivityReservationsPerWorkflowTask'> {
  return {
    activityTaskPollerBehavior: { type: 'autoscaling', minimum: 1, initial: 1, maximum: Math.max(1, Math.min(slots, maxPollers)) },
    // A task may reserve every free slot (the SDK's default is 3): a job's lanes schedule many activities at once.
    maxEagerActivityReservationsPerWorkflowTask: slots,
  };
}
