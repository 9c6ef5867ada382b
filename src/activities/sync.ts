/**
 * The synchronous path: send a shard's requests through POST /v1/messages at bounded concurrency, with
 * retry-after-aware exponential backoff on 429/529/5xx, heartbeating as it goes. Each finished request is
 * recorded in the store before the next step, so an activity that runs again skips what was already paid for.
 * The synchronous API has no idempotency key: a call whose answer is lost with its worker is sent again.
 * A call the SDK expects to outlast ten minutes (a large max_tokens) streams, as the SDK requires; an error the
 * SDK or the API gives for one request is that request's outcome, so the others of the shard are still reported.
 */
import Anthropic from '@anthropic-ai/sdk';
import { heartbeat, sleep } from '@temporalio/activity';
import { addUsage, emptyTally, type Usage } from '../domain/cost';
import { jobKeys, type DiscardedAnswer, type OutcomeLine, type PackRecord, type ShardLine } from '../domain/job';
import { checkOutput } from '../domain/output-check';
import { outputCheckOf } from './output-check';
import { mapLimit } from '../domain/map-limit';
import { classifySdkError, toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { perRow, unpackSucceeded } from './unpack';
import { recordSyncEnded, recordSyncStarted } from './report-records';
import type { CollectResult, SlaMissedInput, SyncInput } from '../contracts/activities';

/** Sent so the emulator (and request logs) can tell which request a call belongs to; the API ignores it. */
export const CUSTOM_ID_HEADER = 'x-sluice-custom-id';
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 60_000;

export function syncActivity({ store, anthropicNoRetry, prices }: ActivityDeps) {
  return async function runSync(input: SyncInput): Promise<CollectResult> {
    const lines: ShardLine[] = [];
    for await (const text of store.readLines(jobKeys.shard(input.jobId, input.shardKey))) lines.push(JSON.parse(text) as ShardLine);
    await recordSyncStarted(store, input.jobId, input.shardKey, lines.length); // for the job report's timeline

    const check = input.outputCheck ? await outputCheckOf(store, input.jobId, input.outputCheck) : undefined;
    /** A call whose answer fails the output check is made again, up to maxAttempts in all; the discarded answers' usage is kept. */
    const callChecked = async (line: ShardLine, maxRetries: number): Promise<OutcomeLine> => {
      const discarded: DiscardedAnswer[] = [];
      for (let attempt = line.attempt; ; attempt++) {
        const o = await callOnce({ ...line, attempt }, maxRetries);
        const withDiscarded = discarded.length > 0 ? { ...o, discarded } : o;
        if (!check || o.status !== 'succeeded') return withDiscarded;
        const v = checkOutput(o.message, check.schema);
        if (v.ok) return withDiscarded;
        const m = o.message as { model?: string; usage?: Usage };
        if (attempt >= (input.maxAttempts ?? 1)) {
          const error = { type: v.code, message: `${v.message} (after ${attempt} attempt${attempt === 1 ? '' : 's'})` };
          return { ...withDiscarded, status: 'invalid_output', error };
        }
        discarded.push({ model: m.model ?? line.params.model, usage: m.usage ?? {} });
      }
    };
    let finished = 0;
    const callRecorded = async (line: ShardLine) => {
      const doneKey = jobKeys.syncDone(input.jobId, input.shardKey, line.custom_id);
      const done = await store.readJson<OutcomeLine>(doneKey);
      const outcome = done ?? (await callChecked(line, input.maxRetries ?? 6));
      if (!done) await store.writeJson(doneKey, outcome);
      return outcome;
    };
    const packRecords: PackRecord[] = [];
    const result: CollectResult = { succeeded: 0, failed: 0, canceled: 0, retry: 0, tally: emptyTally(), reasons: {} };
    const perLine = await mapLimit(lines, input.concurrency, async (line): Promise<{ line: ShardLine; outcome: OutcomeLine }[]> => {
      const outcome = await callRecorded(line);
      heartbeat({ finished: ++finished });
      if (!line.pack) return [{ line, outcome }];
      if (outcome.status !== 'succeeded') return perRow(line, outcome).map((o) => ({ line, outcome: o }));
      const unpacked = unpackSucceeded(line, outcome);
      packRecords.push(unpacked.record);
      addPackUsage(line, outcome);
      if (unpacked.usable) return unpacked.outcomes.map((o) => ({ line, outcome: o }));
      // An unusable answer: the rows go again alone, here and now (the synchronous lane retries inside).
      result.addedRequests = (result.addedRequests ?? 0) + unpacked.alone.length - 1;
      result.reasons['unusable_answer'] = (result.reasons['unusable_answer'] ?? 0) + 1;
      const alone: { line: ShardLine; outcome: OutcomeLine }[] = [];
      for (const row of unpacked.alone) alone.push({ line: row, outcome: await callRecorded(row) });
      return alone;
    });
    function addPackUsage(line: ShardLine, o: OutcomeLine) {
      const m = o.message as { model?: string; usage?: Usage };
      result.tally = addUsage(result.tally, m.model ?? line.params.model, m.usage ?? {}, 'sync', prices);
    }

    const byOrigin = new Map<number, string[]>();
    perLine.flat().forEach(({ line, outcome: o }) => {
      // A pack's rows share its one outcome: counted once, its usage already added above.
      if (!o.pack || o.pack.index === 0) {
        if (!o.pack) {
          // Every answer is paid for: those that failed the check, and those discarded before another call.
          for (const d of o.discarded ?? []) result.tally = addUsage(result.tally, d.model, d.usage, 'sync', prices);
          if (o.status === 'succeeded' || o.status === 'invalid_output') {
            const m = o.message as { model?: string; usage?: Usage } | undefined;
            result.tally = addUsage(result.tally, m?.model ?? line.params.model, m?.usage ?? {}, 'sync', prices);
          }
        }
        if (o.status === 'succeeded') {
          result.succeeded++;
        } else if (o.status === 'invalid_output') {
          result.invalidOutput = (result.invalidOutput ?? 0) + 1;
          result.reasons['invalid_output'] = (result.reasons['invalid_output'] ?? 0) + 1;
        } else {
          result.failed++;
          const type = o.error?.type ?? 'unknown_error';
          result.reasons[type] = (result.reasons[type] ?? 0) + 1;
        }
      }
      byOrigin.set(line.origin, [...(byOrigin.get(line.origin) ?? []), JSON.stringify(o)]);
    });
    for (const [origin, texts] of byOrigin) {
      await store.writeLines(jobKeys.outcomes(input.jobId, origin, `sync-${input.shardKey}`), texts);
    }
    if (packRecords.length > 0) {
      packRecords.sort((a, b) => a.line - b.line);
      await store.writeLines(jobKeys.packs(input.jobId, `sync-${input.shardKey}`), packRecords.map((r) => JSON.stringify(r)));
    }
    await recordSyncEnded(store, input.jobId, input.shardKey, lines.length);
    return result;
  };

  async function callOnce(line: ShardLine, maxRetries: number): Promise<OutcomeLine> {
    const base = { custom_id: line.custom_id, line: line.line, attempts: line.attempt, batch_ids: line.batch_ids, mode: 'sync' as const };
    for (let retry = 0; ; retry++) {
      try {
        const message = await sendMessage(line);
        return { ...base, status: 'succeeded', message };
      } catch (err) {
        const v = classifySdkError(err);
        // A bad key stops the whole job; any other refusal is this request's own failure.
        if (v.status === 401 || v.status === 403) throw toApiFailure(err, `synchronous call for ${line.custom_id}`);
        if (v.verdict === 'terminal' || retry >= maxRetries) {
          return { ...base, status: 'failed', error: { type: v.errorType, message: v.apiMessage ?? v.reason } };
        }
        const asked = v.retryAfterMs;
        const backoff = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry) * (0.5 + Math.random() / 2);
        heartbeat({ waiting: line.custom_id });
        await sleep(asked ?? backoff);
      }
    }
  }

  /** One Messages call, streamed when the SDK would refuse it without (it expects more than 10 minutes). */
  async function sendMessage(line: ShardLine): Promise<Anthropic.Message> {
    const params = line.params as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const options = { headers: { [CUSTOM_ID_HEADER]: line.custom_id } };
    if (!mustStream(anthropicNoRetry, params.max_tokens)) {
      return anthropicNoRetry.messages.create({ ...params, stream: false }, options);
    }
    // Heartbeats while it streams: a long answer must not look like a dead worker.
    const stream = anthropicNoRetry.messages.stream({ ...params, stream: true }, options);
    stream.on('text', () => heartbeat({ streaming: line.custom_id }));
    return stream.finalMessage();
  }
}

/** The SDK's own rule for when a non-streaming call is refused (its expected duration passes 10 minutes). */
export function mustStream(client: Anthropic, maxTokens: number): boolean {
  try {
    client.calculateNonstreamingTimeout(maxTokens);
    return false;
  } catch (err) {
    if (err instanceof Anthropic.AnthropicError) return true;
    throw err;
  }
}

/** Settles a shard without sending it: its requests missed the SLA and may not go synchronously. */
export function slaMissedActivity({ store }: ActivityDeps) {
  return async function markSlaMissed(input: SlaMissedInput): Promise<{ requests: number }> {
    const byOrigin = new Map<number, string[]>();
    let requests = 0;
    for await (const text of store.readLines(jobKeys.shard(input.jobId, input.shardKey))) {
      const line = JSON.parse(text) as ShardLine;
      const outcome: OutcomeLine = {
        custom_id: line.custom_id,
        line: line.line,
        status: 'sla_missed',
        attempts: line.attempt - 1,
        batch_ids: line.batch_ids,
        error: { type: 'sla_missed', message: input.reason },
      };
      byOrigin.set(line.origin, [...(byOrigin.get(line.origin) ?? []), JSON.stringify(outcome)]);
      requests++;
    }
    for (const [origin, texts] of byOrigin) {
      await store.writeLines(jobKeys.outcomes(input.jobId, origin, `missed-${input.shardKey}`), texts);
    }
    return { requests };
  };
}
