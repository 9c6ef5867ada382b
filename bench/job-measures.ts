/** What bench/job.ts reads back after a job: sends against attempts, the job's histories, and a readiness wait. */
import { writeFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { decodeWireId } from '../src/domain/wire-id';
import type { EmulatorStats } from '../src/emulator';
import type { LocalDirectoryStore } from '../src/store/local-store';

/** What the emulator received against what Sluice says it sent (results.jsonl); any excess was paid twice. */
export async function sendsAgainstAttempts(store: LocalDirectoryStore, jobId: string, stats: EmulatorStats) {
  let attempts = 0;
  for await (const text of store.readLines(jobKeys.output(jobId, 'results.jsonl'))) {
    const o = JSON.parse(text) as OutcomeLine;
    attempts += o.mode === 'sync' ? o.attempts : o.batch_ids.length;
  }
  let sent = 0;
  let twice = 0;
  for (const [id, x] of Object.entries(stats.submissions)) {
    sent += x.batch + x.sync;
    if (decodeWireId(id) !== undefined && x.batch > 1) twice++;
  }
  return { sent, attempts, twice };
}

/** Every run of the job's workflow id, oldest first. */
export async function historiesOf(client: Client, workflowId: string): Promise<temporal.api.history.v1.IHistory[]> {
  const histories: temporal.api.history.v1.IHistory[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    histories.push(await client.workflow.getHandle(workflowId, wf.runId).fetchHistory());
  }
  return histories.reverse();
}

export async function waitForHttp(url: string) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

/** The benches' job input: n short classification requests, one JSONL line each (custom_id r0, r1, ...). */
export async function writeBenchInput(file: string, n: number): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ custom_id: `r${i}`, params: { model: 'claude-haiku-4-5', max_tokens: 32, messages: [{ role: 'user', content: `Classify item ${i}: a short text of about eighty characters, padded.` }] } }));
  }
  await writeFile(file, lines.join('\n') + '\n');
}
