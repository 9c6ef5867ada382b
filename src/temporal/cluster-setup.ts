/**
 * `sluice setup`: makes a cluster ready for Sluice, as often as you like. Registers the missing search attributes
 * through the operator service, checks the namespace (and reports its retention), and says whether a worker polls
 * the task queue. Where the server refuses registration (Temporal Cloud manages search attributes through its own
 * API), the report says exactly what to add and how.
 */
import { temporal } from '@temporalio/proto';
import {
  describeNamespaceRetention,
  grpcCode,
  GRPC_PERMISSION_DENIED,
  GRPC_UNIMPLEMENTED,
  missingSearchAttributes,
  wantedSearchAttributes,
  type TemporalServices,
} from './cluster-check';

export interface ClusterSetupReport {
  namespace: string;
  retentionMs?: number;
  /** Registered by this run. */
  added: string[];
  /** Already there. */
  present: string[];
  /** Missing and refused by the server: what the operator must add (with `manualSteps`). */
  refused: string[];
  manualSteps: string[];
  /** Workflow pollers on the task queue right now (0: no worker is running). */
  workflowPollers: number;
  activityPollers: number;
}

export async function setupCluster(
  services: TemporalServices,
  o: { namespace: string; taskQueue: string },
): Promise<ClusterSetupReport> {
  const retentionMs = await describeNamespaceRetention(services, o.namespace);
  const wanted = wantedSearchAttributes();
  const missing = new Set(await missingSearchAttributes(services, o.namespace));
  const toAdd = wanted.filter((a) => missing.has(a.name));
  const report: ClusterSetupReport = {
    namespace: o.namespace,
    retentionMs,
    added: [],
    present: wanted.filter((a) => !missing.has(a.name)).map((a) => a.name),
    refused: [],
    manualSteps: [],
    workflowPollers: 0,
    activityPollers: 0,
  };
  if (toAdd.length > 0) {
    try {
      await services.operatorService.addSearchAttributes({
        namespace: o.namespace,
        searchAttributes: Object.fromEntries(toAdd.map((a) => [a.name, a.type])),
      });
      report.added = toAdd.map((a) => a.name);
    } catch (err) {
      const code = grpcCode(err);
      if (code !== GRPC_PERMISSION_DENIED && code !== GRPC_UNIMPLEMENTED) throw err;
      report.refused = toAdd.map((a) => a.name);
      report.manualSteps = cloudSteps(o.namespace, toAdd);
    }
  }
  const pollers = async (taskQueueType: temporal.api.enums.v1.TaskQueueType) =>
    (
      await services.workflowService.describeTaskQueue({
        namespace: o.namespace,
        taskQueue: { name: o.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType,
      })
    ).pollers?.length ?? 0;
  report.workflowPollers = await pollers(temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW);
  report.activityPollers = await pollers(temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY);
  return report;
}

/** Temporal Cloud: search attributes are added with tcld or in the Cloud UI, not through the operator service. */
function cloudSteps(namespace: string, attrs: { name: string; typeName: string }[]): string[] {
  return [
    'This server refuses to register search attributes (Temporal Cloud manages them through its own API). Add them with tcld:',
    `  tcld namespace search-attributes add --namespace ${namespace} ${attrs.map((a) => `--search-attribute "${a.name}=${a.typeName}"`).join(' ')}`,
    `or in the Cloud UI: Namespaces > ${namespace} > Edit > Custom Search Attributes: ${attrs.map((a) => `${a.name} (${a.typeName})`).join(', ')}.`,
    'Then run `sluice setup` again to check.',
  ];
}

/** The report as the CLI prints it. */
export function formatSetupReport(r: ClusterSetupReport, taskQueue: string): string[] {
  const lines = [
    `Namespace ${r.namespace}: exists, retention ${r.retentionMs === undefined ? 'unknown' : formatDays(r.retentionMs)}`,
  ];
  if (r.added.length > 0) lines.push(`Search attributes registered: ${r.added.join(', ')}`);
  if (r.present.length > 0) lines.push(`Search attributes already there: ${r.present.join(', ')}`);
  if (r.refused.length > 0) lines.push(`Search attributes missing: ${r.refused.join(', ')}`, ...r.manualSteps);
  lines.push(
    r.workflowPollers > 0
      ? `Task queue ${taskQueue}: ${r.workflowPollers} workflow poller(s), ${r.activityPollers} activity poller(s)`
      : `Task queue ${taskQueue}: no worker polls it yet: start one with \`sluice worker\` (same TEMPORAL_* settings and SLUICE_TASK_QUEUE)`,
  );
  return lines;
}

function formatDays(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 24 && hours % 24 === 0 ? `${hours / 24} days` : `${hours} hours`;
}
