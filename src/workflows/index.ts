// The workflow bundle's entry point: every workflow the worker runs, and (from src/contracts) the messages they take.
export { sluiceJob, type JobInput, type JobResult } from './job';
export { sluiceScheduler, schedulerWorkflowId } from './scheduler';
export { sluicePoller } from './poller';
export { sluiceAudit, type AuditInput } from './audit';
export { sluiceIntake, intakeWorkflowId } from './intake';
export type { IntakeInput } from './intake';
export {
  auditStatusQuery,
  cancelSignal,
  enqueueUpdate,
  intakeStatusQuery,
  pauseSignal,
  pollerQuery,
  progressQuery,
  queueQuery,
  requestDoneSignal,
  requestStatusQuery,
  resumeSignal,
  setPrioritySignal,
  type AuditResult,
  type EnqueueInput,
  type EnqueueItem,
  type EnqueueResult,
  type PollerView,
  type QueueView,
  type RequestStatus,
} from '../contracts/messages';
