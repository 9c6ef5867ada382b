// The `sluice` entry point: client helpers for jobs, intakes, queues and schedules; the stores; payload encryption;
// Sluice's errors; and the types they take and return. Workers: `sluice/worker`. Workflow code: `sluice/workflows`.
export {
  startJob,
  jobProgress,
  cancelJob,
  waitForJob,
  downloadResults,
  type StartJobOptions,
  type StartedJob,
} from './client/jobs';
export { stageRequests, type StageRequestsOptions } from './client/stage';
export { setJobPriority, pauseJob, resumeJob, queueView } from './client/queue';
export {
  createIntake,
  enqueue,
  intakeStatus,
  intakeRequest,
  intakeResults,
  IntakeRefusedError,
  type IntakeRequest,
  type IntakeTarget,
  type EnqueueAnswer,
} from './client/intake';
export {
  createSchedule,
  listSchedules,
  describeSchedule,
  pauseSchedule,
  unpauseSchedule,
  triggerSchedule,
  deleteSchedule,
  type CreateScheduleOptions,
  type CreatedSchedule,
  type ScheduleListEntry,
  type ScheduleView,
} from './client/schedules';
export { LocalDirectoryStore, PostgresStore, BlobNotFoundError, type BlobStore, type PostgresStoreOptions } from './store';
export { dataConverterFromEnv, codecFromEnv, AesGcmCodec, CodecError, parseCodecKeys, type CodecKey } from './codec';
export { SluiceError, InputError, ConfigError } from './domain/errors';
export { sluiceSearchAttributes } from './workflows/search-attributes';
export type { JobOptionsInput, OutcomeLine, OutcomeStatus } from './domain/job';
export type { JobDefaults, InputIssue } from './domain/request';
export type { JobSummary } from './contracts/activities';
export type { StagedInput, StageSource } from './contracts/activities';
export type { JobProgress } from './contracts/activities';
export type { QueueView } from './contracts/messages';
