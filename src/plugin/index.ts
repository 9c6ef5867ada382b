// The `sluice/worker` entry point: the plugin that adds Sluice to a Worker, and the parts it is made of.
export { SluicePlugin, type SluicePluginOptions } from './sluice-plugin';
export { createActivities, type ActivityDeps, type SluiceActivities } from '../activities';
export { StageFailureType, type StageInput, type StagedInput, type StageSource } from '../contracts/activities';
export { createSluiceWorker, runWorkerFromEnv, type SluiceWorkerOptions } from '../worker';
