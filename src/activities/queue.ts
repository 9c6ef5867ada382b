/**
 * Ask the task queue's scheduler for room, starting it if it is not running (signal-with-start: the workflow
 * API has no way to start another workflow only if absent, so this one call is an activity).
 */
import { activityInfo, Context } from '@temporalio/activity';
import type { QueueCapacity } from '../domain/queue';
import { requestRoomSignal, type RoomRequest } from '../contracts/messages';
import { schedulerWorkflowId, sluiceScheduler } from '../workflows/scheduler';
import type { ActivityDeps } from './deps';

export function queueActivity({ queueCapacity }: ActivityDeps) {
  return async function requestRoom(request: RoomRequest): Promise<{ schedulerId: string }> {
    const { taskQueue } = activityInfo();
    const schedulerId = schedulerWorkflowId(taskQueue);
    const capacity: QueueCapacity = queueCapacity;
    await Context.current().client.workflow.signalWithStart(sluiceScheduler, {
      workflowId: schedulerId,
      taskQueue,
      args: [{ capacity }],
      signal: requestRoomSignal,
      signalArgs: [request],
      staticSummary: `Sluice scheduler for task queue ${taskQueue}: room for ${capacity.maxRequests} requests in ${capacity.maxBatches} batches`,
    });
    return { schedulerId };
  };
}
