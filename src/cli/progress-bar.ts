/** Follows a running job through its `progress` query and shows a bar (or plain lines when not a terminal). */
import cliProgress from 'cli-progress';
import type { Client } from '@temporalio/client';
import { formatDuration } from '../domain/duration';
import { progressQuery } from '../workflows';
import type { JobProgress } from '../workflows/job-state';
import { requestsDone } from '../domain/outcome-count';

const QUERY_WAIT_MS = 2_000;

export async function followJob(client: Client, workflowId: string, done: Promise<unknown>, intervalMs = 500): Promise<void> {
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {value}/{total} requests | {phase} | {batches} batches in flight | {rate}/min | ETA {etaText} | ${cost}',
      stream: process.stderr,
      noTTYOutput: !tty,
      notTTYSchedule: 5_000,
      hideCursor: tty,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => {});
  const settled = done.then(
    () => undefined,
    () => undefined,
  );
  const handle = client.workflow.getHandle(workflowId);
  // A query waits for a worker to answer it: with none (or a server restarting) it must not hold up the loop.
  const ask = (): Promise<JobProgress | undefined> =>
    Promise.race([handle.query(progressQuery), new Promise<undefined>((r) => setTimeout(() => r(undefined), QUERY_WAIT_MS)), settled]);
  const show = (p: JobProgress) => {
    const value = requestsDone(p.requests);
    const payload = {
      phase: p.phase,
      batches: p.batches.inFlight,
      rate: p.requestsPerMinute,
      etaText: p.etaMs === undefined ? '—' : formatDuration(p.etaMs),
      cost: p.costUsd.toFixed(4),
    };
    if (!started) {
      bar.start(p.requests.total, value, payload);
      started = true;
    } else bar.update(value, payload);
    bar.setTotal(p.requests.total);
  };
  try {
    while (!finished) {
      try {
        const p = await ask();
        if (p) show(p);
      } catch {
        // The workflow may be between tasks or just finished; the next tick tells.
      }
      await Promise.race([done.catch(() => {}), new Promise((r) => setTimeout(r, intervalMs))]);
    }
    try {
      const p = await Promise.race([handle.query(progressQuery), new Promise<undefined>((r) => setTimeout(() => r(undefined), QUERY_WAIT_MS))]);
      if (p) show(p);
    } catch {
      // A finished workflow whose worker is gone cannot answer queries; the summary says the rest.
    }
  } finally {
    if (started) bar.stop();
  }
}
