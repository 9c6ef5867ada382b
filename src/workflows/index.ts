// The workflow bundle's entry point: every workflow the worker runs, and the messages they take.
export { sluiceJob, cancelSignal, progressQuery, type JobInput, type JobResult } from './job';
export { pauseSignal, resumeSignal, setPrioritySignal } from './job-queue';
export { sluiceScheduler, queueQuery, schedulerWorkflowId, type QueueView } from './scheduler';
export { sluiceAudit, auditStatusQuery, type AuditInput, type AuditResult } from './audit';
export {
  sluiceIntake,
  enqueueUpdate,
  intakeStatusQuery,
  requestStatusQuery,
  requestDoneSignal,
  intakeWorkflowId,
  type EnqueueInput,
  type EnqueueItem,
  type EnqueueResult,
  type RequestStatus,
} from './intake';
