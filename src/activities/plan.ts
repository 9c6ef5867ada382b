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
import { CacheSurvey, writeGroupedShards } from './plan-grouped';
import type { PlanInput, PlanResult } from '../contracts/activities';

export function planActivity({ store, anthropic, apiTimeScale }: ActivityDeps) {
  return async function planJob(input: PlanInput): Promise<PlanResult> {
    // A plan that was written completely is final: running the activity again returns it unchanged.
    const done = await store.readJson<PlanResult>(jobKeys.plan(input.jobId));
    if (done) return done;

    const cutter = createBatchCutter({ maxRequests: input.batchSize });
    const shardSizes: number[] = [];
    let open: string[] = [];
    const flush = async () => {
      if (open.length === 0) return;
      await store.writeLines(jobKeys.shard(input.jobId, originalShardKey(shardSizes.length)), open);
      shardSizes.push(open.length);
      open = [];
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

    // Requests that mark a cached prefix (or --cache-prefix): shards by cache group (docs/prompt-cache.md).
    if (survey.groups) {
      const grouped = await writeGroupedShards(store, input, survey);
      const plan: PlanResult = { ...grouped };
      if (input.learnWindow) plan.window = await learnWindow(store, { ...input.learnWindow, nowMs: Date.now(), apiTimeScale });
      await store.writeJson(jobKeys.plan(input.jobId), plan);
      return plan;
    }

    let requestCount = 0;
    for await (const text of store.readLines(input.inputKey)) {
      const request = JSON.parse(text) as NormalizedRequest;
      const line: ShardLine = { ...request, origin: shardSizes.length, attempt: 1, batch_ids: [] };
      if (cutter.add(Buffer.byteLength(JSON.stringify(request.params)) + REQUEST_ENVELOPE_BYTES).cutBefore) {
        await flush();
        line.origin = shardSizes.length;
      }
      open.push(JSON.stringify(line));
      requestCount++;
    }
    await flush();
    const plan: PlanResult = { requestCount, shardSizes };
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
