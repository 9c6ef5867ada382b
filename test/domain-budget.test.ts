// The budget's reservation rules, the worst case of a request, and the estimate's sums, on plain values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditOptionsSchema } from '../src/domain/audit';
import { IntakeOptionsSchema } from '../src/domain/intake';
import { JobOptionsSchema } from '../src/domain/job';
import { committedUsd, fits, newLedger, newLimitProblem, reserve, settle, syncWorstOf, withLimit, worstCaseUsd } from '../src/domain/budget';
import { costOfUsage } from '../src/domain/cost';
import { createEstimator } from '../src/domain/estimate';
import { cacheMarkOf, countTokensBody, inputTokensUpperBound } from '../src/domain/token-count';
import { shardWorstUsd, withinBudget } from '../src/workflows/job-budget';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

describe('budget ledger', () => {
  test('a reservation counts against the limit until it is settled at the actual cost', () => {
    let l = newLedger(1);
    assert.ok(fits(l, 0.6));
    l = reserve(l, 's000000', 0.6);
    assert.equal(fits(l, 0.5), false, 'spent + reserved + worst may not pass the limit');
    assert.ok(fits(l, 0.4));
    l = settle(l, 's000000', 0.1);
    close(l.reservedUsd, 0);
    close(l.spentUsd, 0.1);
    assert.deepEqual(l.reservations, {});
    assert.ok(fits(l, 0.9), 'the unspent part of the worst case is free again');
    assert.equal(fits(l, 0.91), false);
    close(l.peakCommittedUsd, 0.6);
  });

  test('reserving the same shard twice replaces the first reservation (an activity may run twice)', () => {
    const l = reserve(reserve(newLedger(1), 'r001-000000', 0.3), 'r001-000000', 0.3);
    close(l.reservedUsd, 0.3);
  });

  test('settling a shard never reserved spends its cost and releases nothing', () => {
    const l = settle(reserve(newLedger(1), 'a', 0.2), 'b', 0.05);
    close(l.reservedUsd, 0.2);
    close(l.spentUsd, 0.05);
    close(committedUsd(l), 0.25);
  });

  test('a new limit must be a positive number and at least what is spent and reserved', () => {
    const l = reserve(settle(reserve(newLedger(1), 'a', 0.5), 'a', 0.25), 'b', 0.5);
    assert.match(newLimitProblem(l, 0) ?? '', /positive/);
    assert.match(newLimitProblem(l, Number.NaN) ?? '', /positive/);
    assert.match(newLimitProblem(l, 0.7) ?? '', /at least USD 0\.7500/);
    assert.equal(newLimitProblem(l, 0.75), undefined);
    assert.equal(withLimit(l, 2).limitUsd, 2);
  });
});

describe('worst case of a request', () => {
  test('input plus max_tokens of output, at batch prices half the synchronous ones', () => {
    const r = { model: 'claude-sonnet-5-5', inputTokens: 1_000, maxTokens: 500 };
    close(worstCaseUsd(r, 'sync')!, costOfUsage('claude-sonnet-5-5', { input_tokens: 1_000, output_tokens: 500 }, 'sync')!);
    close(worstCaseUsd(r, 'batch')!, worstCaseUsd(r, 'sync')! / 2);
    close(syncWorstOf(worstCaseUsd(r, 'batch')!), worstCaseUsd(r, 'sync')!);
  });

  test('a request marking cache_control is priced as if all its input were written to the cache', () => {
    const plain = worstCaseUsd({ model: 'claude-sonnet-5-5', inputTokens: 1_000_000, maxTokens: 0 }, 'sync')!;
    const fiveMin = worstCaseUsd({ model: 'claude-sonnet-5-5', inputTokens: 1_000_000, maxTokens: 0, cacheMark: '5m' }, 'sync')!;
    const oneHour = worstCaseUsd({ model: 'claude-sonnet-5-5', inputTokens: 1_000_000, maxTokens: 0, cacheMark: '1h' }, 'sync')!;
    close(plain, 2);
    close(fiveMin, 2.5);
    close(oneHour, 4);
  });

  test('a model without a price has no worst case', () =>
    assert.equal(worstCaseUsd({ model: 'gpt-4', inputTokens: 1, maxTokens: 1 }, 'batch'), undefined));
});

describe('what the budget lets through', () => {
  const shards = [
    { key: 's000000', requests: 10 },
    { key: 's000001', requests: 10 },
    { key: 'r001-000000', requests: 3, worstUsd: 0.05 },
  ];
  const state = { budget: newLedger(0.24), shardWorstUsd: [0.1, 0.1] };

  test('shards go in order while their worst cases fit, and the first that does not holds the rest', () => {
    const r = withinBudget(state, shards, 'batch');
    assert.deepEqual(r.picks.map((s) => s.key), ['s000000', 's000001']);
    assert.equal(r.held, true, 'the retry shard (0.05) no longer fits beside 0.2 reserved');
    assert.equal(withinBudget({ ...state, budget: newLedger(0.25) }, shards, 'batch').picks.length, 3, 'exactly at the limit fits');
  });

  test('a synchronous sub-batch reserves twice the batch worst case', () => {
    assert.equal(shardWorstUsd(state, shards[0]!, 'sync'), 0.2);
    const r = withinBudget(state, shards, 'sync');
    assert.deepEqual(r.picks.map((s) => s.key), ['s000000']);
  });

  test('work reported sla_missed costs nothing and is never held; a job without a budget is never held', () => {
    assert.equal(withinBudget(state, shards, 'sla_missed').held, false);
    assert.equal(withinBudget({}, shards, 'batch').picks.length, 3);
  });
});

describe('estimate', () => {
  test('adds up tokens and cost, cuts sub-batches, and names the requests it could not count', () => {
    const e = createEstimator({ batchSize: 2, outputTokensPerRequest: 10 });
    const req = (i: number, extra = {}) => ({ custom_id: `r${i}`, line: i, model: 'claude-haiku-4-5', maxTokens: 100, paramsBytes: 100, inputTokens: 1_000, ...extra });
    e.add(req(1));
    e.add(req(2, { notCounted: '400 invalid_request_error: bad' }));
    e.add(req(3, { cacheMark: '1h' }));
    const r = e.result();
    assert.equal(r.requests, 3);
    assert.equal(r.subBatches, 2);
    assert.equal(r.inputTokens, 3_000);
    assert.equal(r.countedRequests, 2);
    assert.deepEqual(r.notCounted, [{ custom_id: 'r2', line: 2, reason: '400 invalid_request_error: bad' }]);
    const one = costOfUsage('claude-haiku-4-5', { input_tokens: 1_000, output_tokens: 100 }, 'batch')!;
    close(r.largestSubBatchWorstUsd, 2 * one);
    close(r.costUsd.inputOnly.sync, 3 * costOfUsage('claude-haiku-4-5', { input_tokens: 1_000 }, 'sync')!);
    close(r.costUsd.expected!.batch, 3 * costOfUsage('claude-haiku-4-5', { input_tokens: 1_000, output_tokens: 10 }, 'batch')!);
    assert.ok(r.costUsd.worstCase.batch > 3 * one, 'the cache-marked request is dearer in the worst case');
    assert.equal(r.cache?.requestsMarked, 1);
    assert.deepEqual(r.unpricedModels, []);
  });
});

describe('token counting body', () => {
  test('keeps what the count endpoint takes, bounds tokens by bytes, finds cache marks', () => {
    const params = {
      model: 'm',
      max_tokens: 5,
      temperature: 0.5,
      system: [{ type: 'text', text: 'héllo', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [{ role: 'user', content: 'x' }],
    };
    assert.deepEqual(Object.keys(countTokensBody(params)).sort(), ['messages', 'model', 'system']);
    assert.equal(inputTokensUpperBound(params), Buffer.byteLength(JSON.stringify(countTokensBody(params))));
    assert.equal(cacheMarkOf(params), '1h');
    assert.equal(cacheMarkOf({ messages: [{ content: [{ type: 'text', text: 'a', cache_control: { type: 'ephemeral' } }] }] }), '5m');
    assert.equal(cacheMarkOf({ messages: [] }), undefined);
  });
});

describe('budgets of schedules and intakes', () => {
  test("a schedule's runs and an intake's sub-batch jobs carry the budget into their job options, checked", () => {
    assert.equal(AuditOptionsSchema.parse({ name: 'nightly', input: '/data/in.jsonl', job: { budgetUsd: 5 } }).job.budgetUsd, 5);
    assert.throws(() => AuditOptionsSchema.parse({ name: 'nightly', input: '/data/in.jsonl', job: { budgetUsd: 0 } }));
    const intake = IntakeOptionsSchema.parse({ job: { budgetUsd: 2 } });
    assert.equal(JobOptionsSchema.parse({ ...intake.job }).budgetUsd, 2);
    assert.throws(() => IntakeOptionsSchema.parse({ job: { budgetUsd: -1 } }));
    assert.equal(JobOptionsSchema.parse({}).budgetUsd, undefined, 'no budget unless asked');
  });
});
