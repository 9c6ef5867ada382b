import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { isRetryableUpdateError } from '../src/client/update-retry';

/** The shape the client raises: a ServiceError whose cause is the gRPC error (code and message). */
function grpcFailure(code: number, details: string) {
  const cause = Object.assign(new Error(`${code} ${details}`), { code, details });
  return new ServiceError('Workflow Update failed', { cause });
}

test('an update the server aborted when it reloaded the workflow is sent again (UNAVAILABLE, or ABORTED on newer servers)', () => {
  // Seen in `npm run bench:intake -- --total 100000` on a loaded machine: the enqueue failed instead of being retried.
  assert.equal(isRetryableUpdateError(grpcFailure(14, 'UNAVAILABLE: workflow update was aborted')), true);
  assert.equal(isRetryableUpdateError(grpcFailure(10, 'ABORTED: workflow update was aborted')), true);
});

test('the in-flight limit and a failing workflow task are still sent again', () => {
  assert.equal(isRetryableUpdateError(grpcFailure(8, 'RESOURCE_EXHAUSTED: limit on number of concurrent in-flight updates')), true);
  assert.equal(isRetryableUpdateError(grpcFailure(9, 'FAILED_PRECONDITION: Workflow Task in failed state')), true);
});

test('an update that arrived while a workflow task failed is sent again', () => {
  // Seen in `npm run bench:intake -- --total 1000000`: the continue-as-new's task failed with UnhandledCommand (updates
  // had come in meanwhile) and the enqueue in flight failed with this, ending the run.
  const err = grpcFailure(9, 'FAILED_PRECONDITION: Unable to perform workflow execution update due to unexpected workflow task failure.');
  assert.equal(isRetryableUpdateError(err), true);
});

test('other failures are not retried: the caller sees them', () => {
  assert.equal(isRetryableUpdateError(grpcFailure(14, 'UNAVAILABLE: connection refused')), false);
  assert.equal(isRetryableUpdateError(grpcFailure(3, 'INVALID_ARGUMENT: update id too long')), false);
  assert.equal(isRetryableUpdateError(new Error('boom')), false);
});
