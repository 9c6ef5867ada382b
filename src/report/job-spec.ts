/**
 * A job's name, size and options as it was started: the first event of its workflow run (one event fetched, decoded
 * with the client's data converter, so an encrypted history reads too). The start input holds ids, counts and
 * options only, never prompt text (see src/workflows/job.ts).
 */
import type { Client } from '@temporalio/client';
import type { JobSpec } from '../domain/job';
import type { ReportSpec } from '../domain/report-data';

/** Undefined when the run's history is gone (retention) or the workflow is not a Sluice job. */
export async function readJobSpec(client: Client, workflowId: string, runId?: string): Promise<ReportSpec | undefined> {
  const response = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (started?.workflowType?.name !== 'sluiceJob' || !payload) return undefined;
  const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
  let decoded = [payload];
  // Codecs encode in order, so they decode in reverse.
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  const spec = payloadConverter.fromPayload<{ spec?: JobSpec }>(decoded[0]!).spec;
  if (!spec || typeof spec.name !== 'string' || typeof spec.options !== 'object') return undefined;
  return {
    name: spec.name,
    requestCount: spec.requestCount,
    options: spec.options,
    source: spec.source,
    submittedAtMs: spec.submittedAtMs,
  };
}
