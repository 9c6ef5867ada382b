/**
 * Plan: check every request against the account's Models API (read once per job), then split the job's normalized
 * input into shards of at most batchSize requests (and 256 MB).
 */
import { ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import Anthropic from '@anthropic-ai/sdk';
import { modelsApiUnavailable, readModelCatalog } from '../anthropic/model-catalog';
import { InputError } from '../domain/errors';
import { REQUEST_ENVELOPE_BYTES } from '../domain/limits';
import { LINEUP_CATALOG, type ModelCatalog } from '../domain/models';
import { modelIssues } from '../domain/request-model-rules';
import { formatPath } from '../domain/format';
import type { InputIssue } from '../domain/request';
import { createBatchCutter } from '../domain/split';
import { jobKeys, originalShardKey, type NormalizedRequest, type ShardLine } from '../domain/job';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { learnWindow } from '../store/batch-timings';
import { worstCasePricer } from './worst-case';
import { CacheSurvey, writeGroupedShards } from './plan-grouped';
import type { PlanInput, PlanResult } from '../contracts/activities';

const SHARD_WRITES_AT_ONCE = 8;

export function planActivity({ store, anthropic, apiTimeScale, prices }: ActivityDeps) {
  return async function planJob(input: PlanInput): Promise<PlanResult> {
    // A plan that was written completely is final: running the activity again returns it unchanged.
    const done = await store.readJson<PlanResult>(jobKeys.plan(input.jobId));
    if (done) return done;

    // A canary is the first shard, of its own size; every shard after it has the job's batch size.
    let cutter = createBatchCutter({ maxRequests: input.firstShardSize ?? input.batchSize });
    let firstCut = input.firstShardSize === undefined;
    const shardSizes: number[] = [];
    let open: string[] = [];
    // A few shard writes overlap the parsing of the next lines; plan.json is written only once all of them are done.
    const writing = new Set<Promise<void>>();
    let writeFailure: Error | undefined;
    const flush = async () => {
      if (open.length === 0) return;
      const write: Promise<void> = store
        .writeLines(jobKeys.shard(input.jobId, originalShardKey(shardSizes.length)), open)
        .then(
          () => void writing.delete(write),
          (err: unknown) => {
            writeFailure ??= err instanceof Error ? err : new Error(String(err));
            writing.delete(write);
          },
        );
      shardSizes.push(open.length);
      open = [];
      writing.add(write);
      if (writing.size >= SHARD_WRITES_AT_ONCE) await Promise.race(writing);
      if (writeFailure !== undefined) throw writeFailure;
      heartbeat({ shards: shardSizes.length });
    };

    // Before anything is written: a request the account's models refuse stops the job with nothing sent.
    const catalog = await accountCatalog();
    const refused: InputIssue[] = [];
    const survey = new CacheSurvey(input.cachePrefix?.ttl);
    for await (const text of store.readLines(input.inputKey)) {
      const request = JSON.parse(text) as NormalizedRequest;
      survey.see(request);
      for (const issue of modelIssues(request.params, catalog)) {
        refused.push({ line: request.line, field: formatPath(['params', ...issue.path]), reason: issue.reason });
      }
    }
    if (refused.length > 0) {
      const error = new InputError(refused);
      throw ApplicationFailure.nonRetryable(`the account's models refuse these requests:\n${error.message}`, 'InputError', refused);
    }

    // Requests that mark a cached prefix (or --cache-prefix): shards by cache group (docs/prompt-cache.md). A budget
    // prices shards and a canary cuts the first one by input order: those jobs keep input order (the client refuses
    // --cache-prefix with them; marks the requests carry themselves still work, without grouping).
    if (survey.groups && !input.priceWorstCase && input.firstShardSize === undefined) {
      const grouped = await writeGroupedShards(store, input, survey);
      const plan: PlanResult = { ...grouped };
      if (input.learnWindow) plan.window = await learnWindow(store, { ...input.learnWindow, nowMs: Date.now(), apiTimeScale });
      await store.writeJson(jobKeys.plan(input.jobId), plan);
      return plan;
    }

    let requestCount = 0;
    // With a budget: each request's worst case from the counts the client stored, else from an upper bound.
    const worst = input.priceWorstCase ? await worstCasePricer(store, input.jobId, prices) : undefined;
    const shardWorstUsd: number[] = [];
    let openWorstUsd = 0;
    for await (const text of store.readLines(input.inputKey)) {
      const request = JSON.parse(text) as NormalizedRequest;
      const line: ShardLine = { ...request, origin: shardSizes.length, attempt: 1, batch_ids: [] };
      const bytes = Buffer.byteLength(JSON.stringify(request.params)) + REQUEST_ENVELOPE_BYTES;
      if (cutter.add(bytes).cutBefore) {
        if (worst && open.length > 0) shardWorstUsd.push(openWorstUsd);
        openWorstUsd = 0;
        await flush();
        line.origin = shardSizes.length;
        if (!firstCut) {
          firstCut = true;
          cutter = createBatchCutter({ maxRequests: input.batchSize });
          cutter.add(bytes);
        }
      }
      if (worst) {
        line.worst_usd = await worst.next(request);
        openWorstUsd += line.worst_usd;
      }
      open.push(JSON.stringify(line));
      requestCount++;
    }
    if (worst && open.length > 0) shardWorstUsd.push(openWorstUsd);
    await worst?.close();
    await flush();
    await Promise.all(writing);
    if (writeFailure !== undefined) throw writeFailure;
    const plan: PlanResult = { requestCount, shardSizes, ...(worst ? { shardWorstUsd } : {}) };
    // Fitted once and kept in plan.json with the shards: a rerun of the activity returns the same window.
    if (input.learnWindow) plan.window = await learnWindow(store, { ...input.learnWindow, nowMs: Date.now(), apiTimeScale });
    await store.writeJson(jobKeys.plan(input.jobId), plan);
    return plan;
  };

  async function accountCatalog(): Promise<ModelCatalog> {
    try {
      return await readModelCatalog(anthropic);
    } catch (err) {
      if (!modelsApiUnavailable(err)) throw toApiFailure(err, 'read the Models API');
      log.warn('The Models API refused this key: requests are checked against the built-in lineup', {
        status: err instanceof Anthropic.APIError ? (err.status as number | undefined) : undefined,
      });
      return LINEUP_CATALOG;
    }
  }
}
