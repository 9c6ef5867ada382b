/**
 * What the emulator refuses, through the official SDK: create validation (400), authentication (401),
 * body size (413), unknown ids (404), and the request-id header on every answer.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EmulatorHandle } from '../src/emulator';
import { startEmulator } from '../src/emulator';

type BatchRequest = Anthropic.Messages.Batches.BatchCreateParams.Request;

function request(customId: unknown, params: Record<string, unknown> = {}): BatchRequest {
  return {
    custom_id: customId,
    params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }], ...params },
  } as BatchRequest;
}

/** Asserts a 400 invalid_request_error whose message is exactly `message`. */
async function rejectsWith400(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof Anthropic.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.apiMessage, message);
    assert.deepEqual(err.error, {
      type: 'error',
      error: { type: 'invalid_request_error', message },
      request_id: err.requestID,
    });
    assert.match(err.requestID ?? '', /^req_/);
    return true;
  });
}

describe('emulator: create validation', () => {
  let handle: EmulatorHandle;
  let client: Anthropic;
  before(async () => {
    handle = await startEmulator({}); // real time: nothing ends during these tests
    client = new Anthropic({ apiKey: handle.apiKey, baseURL: handle.url, maxRetries: 0 });
  });
  after(() => handle.close());

  const create = (requests: unknown[]): Promise<unknown> =>
    client.messages.batches.create({ requests: requests as BatchRequest[] });

  test('custom_id must match ^[a-zA-Z0-9_-]{1,64}$', async () => {
    await rejectsWith400(
      create([request('ok'), request('has space')]),
      "requests.1.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'",
    );
    await rejectsWith400(
      create([request('x'.repeat(65))]),
      'requests.0.custom_id: String should have at most 64 characters',
    );
    await rejectsWith400(create([request('')]), 'requests.0.custom_id: String should have at least 1 character');
    await rejectsWith400(create([request(undefined)]), 'requests.0.custom_id: Field required');
    await rejectsWith400(create([request(7)]), 'requests.0.custom_id: Input should be a valid string');
    const longest = await client.messages.batches.create({ requests: [request('A-z_9'.repeat(12) + 'abcd')] });
    assert.equal(longest.request_counts.processing, 1, 'exactly 64 characters is fine');
  });

  test('custom_ids must be unique within a batch', async () => {
    await rejectsWith400(
      create([request('a'), request('b'), request('a')]),
      "requests: custom_id's must be unique within a batch. Duplicate custom_id found: a",
    );
  });

  test('1 to 100,000 requests, each with params', async () => {
    await rejectsWith400(create([]), 'requests: List should have at least 1 item after validation, not 0');
    await rejectsWith400(
      client.messages.batches.create({} as Anthropic.Messages.Batches.BatchCreateParams),
      'requests: Field required',
    );
    await rejectsWith400(create([{ custom_id: 'p' }]), 'requests.0.params: Field required');
    await rejectsWith400(create(['nope']), 'requests.0: Input should be a valid dictionary');
    const tooMany = Array.from({ length: 100_001 }, (_, i) => ({ custom_id: `r${i}`, params: {} }));
    await rejectsWith400(
      create(tooMany),
      'requests: List should have at most 100000 items after validation, not 100001',
    );
  });

  test('a refused batch is not created', () => {
    const stats = handle.stats();
    assert.equal(stats.batches, 1, 'only the valid 64-character batch');
    assert.equal(stats.submissions['a'], undefined);
  });

  test('unknown batch ids are 404 not_found_error', async () => {
    for (const call of [
      () => client.messages.batches.retrieve('msgbatch_nope'),
      () => client.messages.batches.cancel('msgbatch_nope'),
      () => client.messages.batches.delete('msgbatch_nope'),
    ]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof Anthropic.NotFoundError);
        assert.equal(err.type, 'not_found_error');
        return true;
      });
    }
  });

  test('?beta=true and the anthropic-beta header are ignored', async () => {
    const batch = await client.beta.messages.batches.create({ requests: [request('beta-1')], betas: ['some-beta'] });
    assert.equal((await client.beta.messages.batches.retrieve(batch.id)).id, batch.id);
  });
});

describe('emulator: authentication and size', () => {
  let handle: EmulatorHandle;
  before(async () => {
    handle = await startEmulator({ apiKey: 'sk-right', maxBodyBytes: 10_000 });
  });
  after(() => handle.close());

  test('a wrong key is 401 authentication_error', async () => {
    const client = new Anthropic({ apiKey: 'sk-wrong', baseURL: handle.url, maxRetries: 0 });
    await assert.rejects(client.messages.batches.list(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.type, 'authentication_error');
      assert.match(err.requestID ?? '', /^req_/);
      return true;
    });
  });

  test('a missing key is 401; x-api-key is accepted as well as Authorization: Bearer', async () => {
    const noKey = new Anthropic({
      apiKey: 'unused',
      baseURL: handle.url,
      maxRetries: 0,
      defaultHeaders: { authorization: null },
    });
    await assert.rejects(noKey.messages.batches.list(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.equal(err.apiMessage, 'x-api-key header is required');
      return true;
    });
    const xApiKey = new Anthropic({
      apiKey: 'unused',
      baseURL: handle.url,
      maxRetries: 0,
      defaultHeaders: { authorization: null, 'x-api-key': 'sk-right' },
    });
    const page = await xApiKey.messages.batches.list();
    assert.deepEqual(page.data, []);
  });

  test('a body over maxBodyBytes is 413 request_too_large and creates nothing', async () => {
    const client = new Anthropic({ apiKey: 'sk-right', baseURL: handle.url, maxRetries: 0 });
    const requests = Array.from({ length: 40 }, (_, i) => request(`big-${i}`, { system: 'x'.repeat(300) }));
    await assert.rejects(client.messages.batches.create({ requests }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 413);
      assert.equal(err.type, 'request_too_large');
      return true;
    });
    assert.equal(handle.stats().batches, 0);
    const small = await client.messages.batches.create({ requests: requests.slice(0, 2) });
    assert.equal(small.request_counts.processing, 2, 'under the limit is fine');
  });
});
