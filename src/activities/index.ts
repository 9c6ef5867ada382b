/** All of Sluice's activities, built from their dependencies (the worker passes the real ones). */
import { cancelActivity } from './cancel';
import { collectActivity } from './collect';
import type { ActivityDeps } from './deps';
import { finalizeActivity } from './finalize';
import { planActivity } from './plan';
import { pollActivity } from './poll';
import { packRetriesActivity } from './retries';
import { submitActivity } from './submit';
import { slaMissedActivity, syncActivity } from './sync';

export function createActivities(deps: ActivityDeps) {
  return {
    planJob: planActivity(deps),
    submitBatch: submitActivity(deps),
    pollBatches: pollActivity(deps),
    collectBatch: collectActivity(deps),
    packRetries: packRetriesActivity(deps),
    cancelBatches: cancelActivity(deps),
    runSync: syncActivity(deps),
    markSlaMissed: slaMissedActivity(deps),
    finalizeJob: finalizeActivity(deps),
  };
}

export type SluiceActivities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
