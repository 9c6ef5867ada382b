/**
 * Ask the account's scheduler for room, starting it if it is not running (signal-with-start: the workflow API has
 * no way to start another workflow only if absent, so this one call is an activity). The scheduler is one per
 * namespace and API key; workflows never see the key, so this activity names the scheduler and tells the job.
 */
import { activityInfo, Context } from '@temporalio/activity';
import type { QueueCapacity } from '../domain/queue';
import { expireAfterMs, QueueRefreshSchema } from '../domain/queue-membership';
import { requestRoomSignal, type RoomRequest } from '../contracts/messages';
import type { RoomAnswer } from '../contracts/activities';
import { accountSchedulerWorkflowId } from '../contracts/workflow-ids';
import { sluiceScheduler } from '../workflows/scheduler';
import { accountFingerprint } from './account-key';
import type { ActivityDeps } from './deps';

export function queueActivity({ queueCapacity, queueRefresh, anthropic }: ActivityDeps) {
  const refresh = QueueRefreshSchema.parse(queueRefresh ?? {});
  const account = accountFingerprint(anthropic.apiKey ?? '');
  return async function requestRoom(request: RoomRequest): Promise<RoomAnswer> {
    const { taskQueue } = activityInfo();
    const schedulerId = accountSchedulerWorkflowId(account);
    const capacity: QueueCapacity = queueCapacity;
    // Only a job that refreshes (it says what it holds) may expire: older runs never re-ask and would lose their room.
    const signalled: RoomRequest = request.held
      ? { ...request, expireAfterMs: expireAfterMs(refresh), refreshMs: refresh.refreshMs }
      : request;
    await Context.current().client.workflow.signalWithStart(sluiceScheduler, {
      workflowId: schedulerId,
      taskQueue,
      args: [{ capacity }],
      signal: requestRoomSignal,
      signalArgs: [signalled],
      staticSummary: `Sluice scheduler for API key ${account}: room for ${capacity.maxRequests} requests in ${capacity.maxBatches} batches`,
    });
    return { schedulerId, refreshMs: refresh.refreshMs };
  };
}
