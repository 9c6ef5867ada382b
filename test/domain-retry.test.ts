import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyHttpError, classifyResult, retryAfterMs } from '../src/domain/retry';
import type { BatchResult, ResultVerdict } from '../src/domain/retry';

const errored = (type: string, message = 'boom'): BatchResult => ({
  type: 'errored',
  error: { type: 'error', error: { type, message } },
});
const first = { attempt: 1, maxAttempts: 3, jobCanceled: false };
const last = { attempt: 3, maxAttempts: 3, jobCanceled: false };

describe('classifyResult', () => {
  const cases: [name: string, result: BatchResult, ctx: typeof first, verdict: ResultVerdict][] = [
    ['succeeded', { type: 'succeeded', message: {} }, first, { outcome: 'succeeded' }],
    ['api_error retries', errored('api_error'), first, { outcome: 'retry', reason: 'api_error: boom' }],
    [
      'overloaded_error retries',
      errored('overloaded_error'),
      first,
      { outcome: 'retry', reason: 'overloaded_error: boom' },
    ],
    [
      'rate_limit_error retries',
      errored('rate_limit_error'),
      first,
      { outcome: 'retry', reason: 'rate_limit_error: boom' },
    ],
    ['timeout_error retries', errored('timeout_error'), first, { outcome: 'retry', reason: 'timeout_error: boom' }],
    ['expired retries', { type: 'expired' }, first, { outcome: 'retry', reason: 'expired' }],
    ['canceled retries', { type: 'canceled' }, first, { outcome: 'retry', reason: 'canceled' }],
    ['canceled job: canceled', { type: 'canceled' }, { ...first, jobCanceled: true }, { outcome: 'canceled' }],
    [
      'canceled job still retries expired',
      { type: 'expired' },
      { ...first, jobCanceled: true },
      { outcome: 'retry', reason: 'expired' },
    ],
    ...[
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'billing_error',
      'not_found_error',
      'teapot_error',
    ].map((type): [string, BatchResult, typeof first, ResultVerdict] => [
      `${type} is terminal`,
      errored(type, 'no'),
      first,
      { outcome: 'failed', errorType: type, message: 'no' },
    ]),
    [
      'retryable at the last attempt fails',
      errored('overloaded_error', 'Overloaded'),
      last,
      { outcome: 'failed', errorType: 'overloaded_error', message: 'Overloaded (after 3 attempts)' },
    ],
    [
      'expired at the last attempt',
      { type: 'expired' },
      last,
      { outcome: 'failed', errorType: 'expired', message: 'expired after 3 attempts' },
    ],
    [
      'canceled at the last attempt',
      { type: 'canceled' },
      last,
      { outcome: 'failed', errorType: 'canceled', message: 'canceled after 3 attempts' },
    ],
    [
      'one attempt allowed',
      { type: 'expired' },
      { attempt: 1, maxAttempts: 1, jobCanceled: false },
      { outcome: 'failed', errorType: 'expired', message: 'expired after 1 attempt' },
    ],
    [
      'errored without an error body',
      { type: 'errored' },
      first,
      { outcome: 'failed', errorType: 'unknown_error', message: '(no message)' },
    ],
  ];
  for (const [name, result, ctx, verdict] of cases) {
    it(name, () => assert.deepEqual(classifyResult(result, ctx), verdict));
  }

  it('an unknown result type fails', () => {
    const verdict = classifyResult({ type: 'vanished' } as unknown as BatchResult, first);
    assert.deepEqual(verdict, {
      outcome: 'failed',
      errorType: 'unknown_result',
      message: 'unknown result type "vanished"',
    });
  });
});

describe('classifyHttpError', () => {
  const cases: [status: number | undefined, verdict: 'retryable' | 'fatal', reason: RegExp][] = [
    [400, 'fatal', /bad request/],
    [401, 'fatal', /ANTHROPIC_API_KEY/],
    [402, 'fatal', /billing/],
    [403, 'fatal', /permission/],
    [404, 'fatal', /not found/],
    [408, 'retryable', /timeout/],
    [409, 'retryable', /conflict/],
    [413, 'fatal', /smaller sub-batches/],
    [422, 'fatal', /HTTP 422/],
    [429, 'retryable', /rate limited/],
    [500, 'retryable', /server error 500/],
    [503, 'retryable', /server error 503/],
    [529, 'retryable', /overloaded/],
    [undefined, 'retryable', /connection/],
  ];
  for (const [status, verdict, reason] of cases) {
    it(`${status ?? 'no status'} is ${verdict}`, () => {
      const got = classifyHttpError(status, 'some_error');
      assert.equal(got.verdict, verdict);
      assert.match(got.reason, reason);
    });
  }

  it('404 right after create is retryable', () => {
    assert.equal(classifyHttpError(404, 'not_found_error', { justCreated: true }).verdict, 'retryable');
  });
});

describe('retryAfterMs', () => {
  const now = Date.UTC(2026, 8, 1, 10, 0, 0);
  const cases: [headers: Record<string, string | string[] | undefined>, ms: number | undefined][] = [
    [{ 'retry-after-ms': '1500' }, 1_500],
    [{ 'Retry-After-Ms': '12.3' }, 13],
    [{ 'retry-after': '30' }, 30_000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after-ms': '200', 'retry-after': '30' }, 200],
    [{ 'retry-after-ms': 'soon', 'retry-after': '2' }, 2_000],
    [{ 'retry-after': ['7'] }, 7_000],
    [{ 'retry-after': 'Tue, 01 Sep 2026 10:00:05 GMT' }, 5_000],
    [{ 'retry-after': 'Tue, 01 Sep 2026 09:00:00 GMT' }, 0],
    [{ 'retry-after': '-3' }, undefined],
    [{ 'retry-after': undefined }, undefined],
    [{}, undefined],
  ];
  for (const [headers, ms] of cases) {
    it(`${JSON.stringify(headers)} → ${ms}`, () => assert.equal(retryAfterMs(headers, now), ms));
  }

  it('an HTTP date needs nowMs', () =>
    assert.equal(retryAfterMs({ 'retry-after': 'Tue, 01 Sep 2026 10:00:05 GMT' }), undefined));
});
