/**
 * The workflow and schedule ids Sluice gives, spelled once, so the client, the CLI, activities and workflows find
 * each other's runs: jobs, the scheduler of an API key, intakes, audits and their schedules.
 */

/** Workflow ids that read well in the Web UI: sluice-job-<name>-<yyyymmdd-hhmmss>. */
/**
 * Workflow ids that read well in the Web UI: sluice-job-<name>-<yyyymmdd-hhmmss>, and `-<suffix>` when given (the
 * client adds a random one, so two runs of one file in the same second get distinct ids).
 */
export function jobWorkflowId(name: string, nowMs: number, suffix?: string): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'job';
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `sluice-job-${slug}-${stamp}${suffix === undefined ? '' : `-${suffix}`}`;
}

/**
 * The scheduler of one namespace and API key: the API's queue cap is per account, so every task queue on that key
 * shares it. `account` is the key's fingerprint (src/activities/account-key.ts), never the key.
 */
export function accountSchedulerWorkflowId(account: string): string {
  return `sluice-scheduler-key-${account}`;
}

/** The scheduler of a task queue, as runs started before schedulers were per API key named it (they still signal it). */
export function schedulerWorkflowId(taskQueue: string): string {
  return `sluice-scheduler-${taskQueue}`;
}

/** The poller of one account (namespace and API key), by the key's fingerprint (never the key). */
export function pollerWorkflowId(accountFingerprint: string): string {
  return `sluice-poller-${accountFingerprint}`;
}

/**
 * The task queue `sluice worker` serves its account's poller on, beside its own: a second Worker in the same process,
 * with its own workflow slots and thread, so the poller's tasks do not wait behind every job's.
 */
export function pollerTaskQueueOf(taskQueue: string): string {
  return `${taskQueue}-poller`;
}

export function intakeWorkflowId(name: string): string {
  return `sluice-intake-${name}`;
}

/** The audit's workflow id as the schedule's action gives it; Temporal appends the scheduled time to it. */
export function auditWorkflowIdPrefix(name: string): string {
  return `sluice-audit-${name}`;
}

/** Temporal's id for the schedule of `name`. */
export function scheduleIdOf(name: string): string {
  return `sluice-schedule-${name}`;
}

/** The schedule's name back from its id, or undefined for schedules that are not Sluice's. */
export function scheduleNameOf(scheduleId: string): string | undefined {
  return scheduleId.startsWith('sluice-schedule-') ? scheduleId.slice('sluice-schedule-'.length) : undefined;
}
