/** All of Sluice's activities, built from their dependencies (the worker passes the real ones). */
import type { SluiceActivities } from '../contracts/activities';
import { recordEndedBatchesActivity, walkBatchListActivity, watchBatchesActivity } from './account-poll';
import { auditActivities } from './audit';
import { cancelActivity } from './cancel';
import { collectActivity } from './collect';
import { collectBatchesActivity } from './collect-batches';
import type { ActivityDeps } from './deps';
import { finalizeActivity } from './finalize';
import { intakeActivities } from './intake';
import { intakeBufferActivities } from './intake-buffer';
import { intakeJobActivities } from './intake-jobs';
import { intakeRetentionActivities } from './intake-retention';
import { planActivity } from './plan';
import { pollActivity } from './poll';
import { queueActivity } from './queue';
import { packRetriesActivity } from './retries';
import { submitActivity } from './submit';
import { stageActivities } from './stage';
import { slaMissedActivity, syncActivity } from './sync';

export function createActivities(deps: ActivityDeps): SluiceActivities {
  return {
    planJob: planActivity(deps),
    submitBatch: submitActivity(deps),
    pollBatches: pollActivity(deps),
    watchBatches: watchBatchesActivity(deps),
    walkBatchList: walkBatchListActivity(deps),
    recordEndedBatches: recordEndedBatchesActivity(deps),
    collectBatch: collectActivity(deps),
    collectBatches: collectBatchesActivity(deps),
    packRetries: packRetriesActivity(deps),
    cancelBatches: cancelActivity(deps),
    requestRoom: queueActivity(deps),
    runSync: syncActivity(deps),
    markSlaMissed: slaMissedActivity(deps),
    finalizeJob: finalizeActivity(deps),
    ...intakeActivities(deps),
    ...intakeBufferActivities(deps),
    ...intakeJobActivities(),
    ...intakeRetentionActivities(deps),
    ...auditActivities(deps),
    ...stageActivities(deps),
  };
}

export type { SluiceActivities };
export type { ActivityDeps } from './deps';
