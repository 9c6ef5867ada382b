/**
 * A named intake (`sluice-intake-<name>`): requests arrive over time through the `enqueue` update and leave as
 * sub-batches, each run as a child job. New intakes keep their buffer and de-duplication records in the store
 * (intake-store.ts); intakes started before that, and their recorded histories, run on as they were
 * (intake-legacy.ts). The choice is made once per intake: by patched() in its first run, then by its state.
 */
import { patched } from '@temporalio/workflow';
import type { IntakeOptions } from '../domain/intake';
import { intakeWorkflowId } from '../contracts/workflow-ids';
import { legacyIntake } from './intake-legacy';
import type { IntakeState } from './intake-state';
import { storeIntake } from './intake-store';
import type { StoreIntakeState } from './intake-store-state';

/** patched() id: the buffer and per-request records live in the store. */
const STORE_BACKED = 'intake-state-in-store';

// Moved to src/contracts; re-exported so existing imports keep working.
export { intakeWorkflowId };

export interface IntakeInput {
  name: string;
  options: IntakeOptions;
  state?: IntakeState | StoreIntakeState;
  /**
   * The queue its sub-batch jobs run on, when the intake runs on a queue of its own (SLUICE_INTAKE_TASK_QUEUE);
   * unset: the intake's own queue.
   */
  jobTaskQueue?: string;
}

export async function sluiceIntake({ name, options, state, jobTaskQueue }: IntakeInput): Promise<void> {
  if (state === undefined ? patched(STORE_BACKED) : 'storeBacked' in state) {
    return storeIntake({ name, options, state: state as StoreIntakeState | undefined, ...(jobTaskQueue ? { jobTaskQueue } : {}) });
  }
  return legacyIntake({ name, options, state: state as IntakeState | undefined });
}
