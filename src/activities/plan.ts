/**
 * Plan: check every request against the account's Models API (read once per job) and split the job's normalized
 * input into shards of at most batchSize requests (and 256 MB), in one read of the input (plan-in-order.ts), or by
 * prompt-cache group (plan-grouped.ts).
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import Anthropic from '@anthropic-ai/sdk';
import { modelsApiUnavailable, readModelCatalog } from '../anthropic/model-catalog';
import { InputError } from '../domain/errors';
import { LINEUP_CATALOG, type ModelCatalog } from '../domain/models';
import { modelIssues } from '../domain/request-model-rules';
import { formatPath } from '../domain/format';
import type { InputIssue } from '../domain/request';
import { jobKeys, type NormalizedRequest } from '../domain/job';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { lineRuns } from '../store/blob-store';
import { learnWindow } from '../store/batch-timings';
import { worstCasePricer } from './worst-case';
import { CacheSurvey, writeGroupedShards } from './plan-grouped';
import { InOrderShards } from './plan-in-order';
import type { PlanInput, PlanResult } from '../contracts/activities';

export function planActivity({ store, anthropic, apiTimeScale, prices }: ActivityDeps) {
  return async function planJob(input: PlanInput): Promise<PlanResult> {
    // A plan that was written completely is final: running the activity again returns it unchanged.
    const done = await store.readJson<PlanResult>(jobKeys.plan(input.jobId));
    if (done) return done;

    // One read of the input checks every request against the account's models and cuts the shards in input order
    // as it goes. A request the models refuse stops the job with nothing sent: the shards written are deleted.
    const catalog = await accountCatalog();
    const refused: InputIssue[] = [];
    const survey = new CacheSurvey(input.cachePrefix?.ttl);
    // Requests that mark a cached prefix (or --cache-prefix): shards by cache group (docs/prompt-cache.md). A budget
    // prices shards and a canary cuts the first one by input order: those jobs keep input order (the client refuses
    // --cache-prefix with them; marks the requests carry themselves still work, without grouping).
    const mayGroup = !input.priceWorstCase && input.firstShardSize === undefined;
    // With a budget: each request's worst case from the counts the client stored, else from an upper bound.
    const worst = input.priceWorstCase ? await worstCasePricer(store, input.jobId, prices) : undefined;
    let shards: InOrderShards | undefined = mayGroup && survey.groups ? undefined : new InOrderShards(store, input, worst !== undefined);
    // A price refused (a model without one) is told only once no model was refused, as when it was a second read.
    let priceFailure: Error | undefined;
    try {
      // Runs of lines (an await per run, not per line: in an activity every promise passes Temporal's hooks).
      for await (const run of lineRuns(store, input.inputKey)) {
        for (const text of run) {
          const request = JSON.parse(text) as NormalizedRequest;
          survey.seeLine(text, request);
          for (const issue of modelIssues(request.params, catalog)) {
            refused.push({ line: request.line, field: formatPath(['params', ...issue.path]), reason: issue.reason });
          }
          if (shards && (refused.length > 0 || priceFailure !== undefined || (mayGroup && survey.groups))) {
            // The in-order shards will not be used: refused, or a cache mark makes the plan cut by group after this read.
            await shards.abandon();
            shards = undefined;
          }
          if (!shards) continue;
          let worstUsd: number | undefined;
          if (worst) {
            try {
              worstUsd = await worst.next(request);
            } catch (err) {
              priceFailure = err instanceof Error ? err : new Error(String(err));
              await shards.abandon();
              shards = undefined;
              continue;
            }
          }
          // A promise only when a shard was cut and the writes in flight are many.
          const writing = shards.add(text, request, worstUsd);
          if (writing) await writing;
        }
      }
    } catch (err) {
      await shards?.abandon();
      throw err;
    } finally {
      await worst?.close();
    }
    if (refused.length > 0) {
      const error = new InputError(refused);
      throw ApplicationFailure.nonRetryable(`the account's models refuse these requests:\n${error.message}`, 'InputError', refused);
    }
    if (priceFailure !== undefined) throw priceFailure;

    const plan: PlanResult = shards ? await shards.finish() : { ...(await writeGroupedShards(store, input, survey)) };
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
