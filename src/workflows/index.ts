// The workflow bundle's entry point: every workflow the worker runs, and the messages they take.
export { sluiceJob, cancelSignal, progressQuery, type JobInput, type JobResult } from './job';
