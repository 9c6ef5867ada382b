/**
 * What a chaos run watches to call a job stuck, and what it leaves behind when it does. Seed 2 at 10,000 requests
 * was called stuck with the progress its jobs showed *before* the fourth kill: a query that failed counted as "no
 * move", and the message repeated the last answer, so a run whose queries failed (a worker that answers nothing) and
 * a run whose jobs truly waited looked the same. Here every job's answer is kept apart, a failed query is said as
 * such, and a stall writes each workflow's history and pending work into the work dir.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery, queueQuery, type sluiceJob } from '../../src/workflows';
import { historyAsJson } from '../../test/helpers/histories';

/** A job's progress as far as the stall check cares: what would change if the job moved. */
export function progressKey(p: { phase: string; requests: unknown; batches: unknown; heldReason?: string }): string {
  return JSON.stringify({ phase: p.phase, requests: p.requests, batches: p.batches, held: p.heldReason });
}

export interface JobWatch {
  /** The last answer that differed from the one before, and when it came. */
  lastMove: { at: number; progress: string };
  /** When the last query was answered at all. */
  lastAnswerAt: number;
  /** The error of the last query that failed, if the last one failed. */
  lastError?: string;
}

/**
 * Watches several jobs: a job has moved when its own answer changed. The run is stuck when no job moved for
 * `stallMs`; a job whose queries failed all that time is named as unanswering, not as waiting.
 */
export class StallWatch {
  private readonly jobs: JobWatch[];

  constructor(
    count: number,
    private readonly stallMs: number,
    now = Date.now(),
  ) {
    this.jobs = Array.from({ length: count }, () => ({ lastMove: { at: now, progress: '' }, lastAnswerAt: now }));
  }

  /** One round of answers (a string per job, or an Error when its query failed). */
  observe(answers: readonly (string | Error)[], now = Date.now()): void {
    answers.forEach((a, i) => {
      const w = this.jobs[i]!;
      if (a instanceof Error) {
        w.lastError = a.message;
        return;
      }
      w.lastError = undefined;
      w.lastAnswerAt = now;
      if (a !== w.lastMove.progress) w.lastMove = { at: now, progress: a };
    });
  }

  /** Undefined while some job moved within `stallMs`; else what each job last showed and whether it answers. */
  stuck(now = Date.now()): string | undefined {
    const lastAny = Math.max(...this.jobs.map((w) => w.lastMove.at));
    if (now - lastAny <= this.stallMs) return undefined;
    return this.jobs
      .map((w, i) => {
        const answered = w.lastError
          ? `queries failing for ${secs(now - w.lastAnswerAt)} (${w.lastError})`
          : `answering, unchanged for ${secs(now - w.lastMove.at)}`;
        return `job ${i + 1}: ${answered}; last progress ${w.lastMove.progress || '(none)'}`;
      })
      .join('\n');
  }
}

/** The API's enums as numbers in `describe().raw`: their names, for the message. */
const ACTIVITY_STATES: Record<number, string> = { 1: 'scheduled', 2: 'started', 3: 'cancel requested', 4: 'paused', 5: 'pause requested' };
const WORKFLOW_TASK_STATES: Record<number, string> = { 1: 'scheduled', 2: 'started' };

/** Each job's pending activities and workflow task, and the scheduler's queue, as lines for the error message. */
export async function describePending(handles: WorkflowHandle[], scheduler: WorkflowHandle): Promise<string> {
  const lines: string[] = [];
  for (const [i, h] of handles.entries()) {
    try {
      const raw = (await h.describe()).raw;
      const acts = (raw.pendingActivities ?? []).map((a) => {
        const failure = a.lastFailure?.message ? `, last failure: ${a.lastFailure.message.slice(0, 160)}` : '';
        return `${a.activityType?.name ?? '?'} #${a.activityId} ${ACTIVITY_STATES[Number(a.state)] ?? `state ${String(a.state)}`} attempt ${a.attempt ?? '?'}${failure}`;
      });
      const task = raw.pendingWorkflowTask ? `workflow task ${WORKFLOW_TASK_STATES[Number(raw.pendingWorkflowTask.state)] ?? String(raw.pendingWorkflowTask.state)} attempt ${raw.pendingWorkflowTask.attempt ?? '?'}` : 'no workflow task';
      lines.push(`job ${i + 1} (${h.workflowId}): ${task}; ${acts.length} activities pending${acts.length ? ': ' + acts.join('; ') : ''}`);
    } catch (err) {
      lines.push(`job ${i + 1} (${h.workflowId}): describe failed: ${String(err)}`);
    }
  }
  try {
    lines.push(`scheduler: ${JSON.stringify(await scheduler.query(queueQuery))}`);
  } catch (err) {
    lines.push(`scheduler: query failed: ${String(err)}`);
  }
  return lines.join('\n');
}

/** The histories of the jobs and the scheduler, as plain JSON (enums as names, as the recorded histories are). */
export async function saveHistories(dir: string, handles: WorkflowHandle[]): Promise<string[]> {
  const written: string[] = [];
  for (const h of handles) {
    try {
      const history = await h.fetchHistory();
      const file = path.join(dir, `history-${h.workflowId}.json`);
      await writeFile(file, JSON.stringify(historyAsJson(history)));
      written.push(file);
    } catch {
      // The server may be down: the SQLite file in the work dir still has it.
    }
  }
  return written;
}

/** One progress answer per job, or the Error its query failed with. */
export async function queryProgress(handles: WorkflowHandle<typeof sluiceJob>[]): Promise<(string | Error)[]> {
  return Promise.all(
    handles.map((h) =>
      h.query(progressQuery).then(
        (p) => progressKey(p),
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      ),
    ),
  );
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
