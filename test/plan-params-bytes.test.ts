// The plan measures each request for the sub-batch size limit from its stored line instead of serialising its params
// again: the size must be that of JSON.stringify(params) for the client's lines, and any other line must still be
// measured right (a pack's rows after the params, another key order, fields the plan appends).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paramsBytes } from '../src/activities/plan-in-order';
import type { NormalizedRequest } from '../src/domain/job';

const params = { model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'é "quoted" 😀 \\ \n \u0001 text' }] } as NormalizedRequest['params'];
const exact = Buffer.byteLength(JSON.stringify(params));

test("a client's line is measured from its text: the params' UTF-8 size, escapes and non-ASCII included", () => {
  const request: NormalizedRequest = { custom_id: 'id "ü"', line: 7, params };
  const text = `{"custom_id":${JSON.stringify(request.custom_id)},"line":7,"params":${JSON.stringify(params)}}`;
  assert.equal(text, JSON.stringify(request));
  assert.equal(paramsBytes(text, request), exact);
});

test("lines in another shape are measured by their params alone", () => {
  const pack: NormalizedRequest = { custom_id: 'pack-1', line: 1, params, pack: [{ custom_id: 'a', line: 1, params }] };
  assert.equal(paramsBytes(JSON.stringify(pack), pack), exact, "a pack's rows are not the params");
  const reordered = { params, line: 2, custom_id: 'r' } as NormalizedRequest;
  assert.equal(paramsBytes(JSON.stringify(reordered), reordered), exact);
  const spaced: NormalizedRequest = { custom_id: 's', line: 3, params };
  assert.equal(paramsBytes(JSON.stringify(spaced, null, 1), spaced), exact);
  const withFields = { custom_id: 'o', line: 4, params, origin: 0, attempt: 1 } as NormalizedRequest;
  assert.equal(paramsBytes(JSON.stringify(withFields), withFields), exact);
});
