/**
 * The finalize activity's last step: the job report (src/report) written next to the results. A report that cannot
 * be written is logged and skipped: the results are what the job is for. The log names the error's kind only,
 * since a parse error could quote a stored line.
 */
import { activityInfo, Context, heartbeat, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { SluiceError } from '../domain/errors';
import { uiLink } from '../domain/web-ui';
import { writeJobReport } from '../report';
import type { OutcomeReport } from '../report/read-records';
import type { ActivityDeps } from './deps';

export async function writeReportAfterFinalize(
  deps: Pick<ActivityDeps, 'store' | 'prices' | 'webUiUrl'>,
  jobId: string,
  folded?: OutcomeReport,
): Promise<void> {
  const info = activityInfo();
  const workflowId = info.workflowExecution?.workflowId ?? jobId;
  try {
    await writeJobReport({
      store: deps.store,
      jobId,
      workflowId,
      prices: deps.prices,
      client: workerClient(),
      runId: info.workflowExecution?.runId,
      webUiLink: deps.webUiUrl ? uiLink(deps.webUiUrl, info.namespace, workflowId) : undefined,
      onProgress: (outcomes) => heartbeat({ report: outcomes }),
      folded,
    });
  } catch (err) {
    log.warn('The job report could not be written', {
      jobId,
      error: err instanceof SluiceError ? err.message : (err as Error)?.name,
    });
  }
}

/** The worker's own client (absent in a MockActivityEnvironment without one). */
function workerClient(): Client | undefined {
  try {
    return Context.current().client;
  } catch {
    return undefined;
  }
}
