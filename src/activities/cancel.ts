/** Cancel batches in flight (job canceled, or preempted). Canceling an ended batch is a no-op. */
import Anthropic from '@anthropic-ai/sdk';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { mapLimit } from '../domain/map-limit';
import type { CancelInput } from '../contracts/activities';

export function cancelActivity({ anthropic }: ActivityDeps) {
  return async function cancelBatches(input: CancelInput): Promise<{ canceling: number }> {
    let canceling = 0;
    await mapLimit(input.batchIds, 8, async (batchId) => {
      try {
        const batch = await anthropic.messages.batches.cancel(batchId);
        if (batch.processing_status !== 'ended') canceling++;
      } catch (err) {
        // Already ended (or gone): nothing left to cancel.
        if (err instanceof Anthropic.BadRequestError || err instanceof Anthropic.NotFoundError) return;
        throw toApiFailure(err, `cancel ${batchId}`);
      }
    });
    return { canceling };
  };
}
