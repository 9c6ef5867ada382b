// The `sluice/workflows` entry point for users' workflow code: Sluice's workflows and their messages, the helpers
// that run a job as a child workflow, and the types they return. (index.ts is what workers register: the helpers
// are not workflows of their own.)
export * from './index';
export { startSluiceJob, runSluiceJob, type SluiceChildJob, type SluiceChildJobOptions } from './child-job';
export type { JobProgress } from './job-state';
export type { JobSummary } from '../contracts/activities';
export type { StagedInput, StageSource } from '../contracts/activities';
export type { JobOptionsInput } from '../domain/job';
export type { JobDefaults } from '../domain/request';
