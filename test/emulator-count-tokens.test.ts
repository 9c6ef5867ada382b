/**
 * POST /v1/messages/count_tokens through the official SDK: the count equals the input tokens the same request is
 * billed in a batch and on the Messages API, bodies are checked as the API checks them (extra fields such as
 * max_tokens refused, a bad model or message refused) with errors in the API's shape, and the emulator's stats keep
 * count calls apart from billable ones.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEmulator, type EmulatorHandle } from '../src/emulator';

const PARAMS = {
  model: 'claude-haiku-4-5',
  system: 'You answer in one word.',
  messages: [{ role: 'user' as const, content: 'What colour is the sky on a clear day?' }],
  tools: [{ name: 'lookup', description: 'looks a word up', input_schema: { type: 'object' as const, properties: { word: { type: 'string' } } } }],
};

describe('emulator: count_tokens', () => {
  let emulator: EmulatorHandle;
  let client: Anthropic;
  before(async () => {
    emulator = await startEmulator({ timeScale: 0.0001 });
    client = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0 });
  });
  after(() => emulator.close());

  test('the count equals the input tokens billed for the same request, sync and batch', async () => {
    const { input_tokens } = await client.messages.countTokens(PARAMS);
    assert.ok(input_tokens > 10);
    const message = await client.messages.create({ ...PARAMS, max_tokens: 32, metadata: { user_id: 'u-1' }, stop_sequences: ['END'] });
    assert.equal(message.usage.input_tokens, input_tokens, 'max_tokens and sampling do not count as input');
    const batch = await client.messages.batches.create({ requests: [{ custom_id: 'a', params: { ...PARAMS, max_tokens: 999 } }] });
    for (;;) {
      const b = await client.messages.batches.retrieve(batch.id);
      if (b.processing_status === 'ended') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for await (const line of await client.messages.batches.results(batch.id)) {
      assert.equal(line.result.type, 'succeeded');
      if (line.result.type === 'succeeded') assert.equal(line.result.message.usage.input_tokens, input_tokens);
    }
    const longer = await client.messages.countTokens({ ...PARAMS, messages: [...PARAMS.messages, { role: 'assistant', content: 'Blue' }, { role: 'user', content: 'And at night?' }] });
    assert.ok(longer.input_tokens > input_tokens, 'more prompt, more tokens');
  });

  test('bodies are checked as the Messages API checks them, answered in the API error shape', async () => {
    const refused = async (body: unknown, pattern: RegExp) => {
      const err = await client.messages.countTokens(body as Anthropic.MessageCountTokensParams).then(
        () => assert.fail('should be refused'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof Anthropic.BadRequestError, String(err));
      const envelope = err.error as { type: string; error: { type: string; message: string } };
      assert.equal(envelope.type, 'error');
      assert.equal(envelope.error.type, 'invalid_request_error');
      assert.match(envelope.error.message, pattern);
      assert.ok(err.requestID?.startsWith('req_'));
    };
    await refused({ ...PARAMS, max_tokens: 10 }, /^max_tokens: Extra inputs are not permitted/);
    await refused({ ...PARAMS, temperature: 0.5 }, /^temperature: Extra inputs are not permitted/);
    await refused({ messages: PARAMS.messages }, /^model: Field required/);
    await refused({ ...PARAMS, model: 'claude-opus-9' }, /^model: claude-opus-9/);
    await refused({ ...PARAMS, messages: [] }, /messages/);
    const bad = new Anthropic({ apiKey: 'wrong', baseURL: emulator.url, maxRetries: 0 });
    await assert.rejects(bad.messages.countTokens(PARAMS), Anthropic.AuthenticationError);
  });

  test('stats count token counts apart from billable calls', async () => {
    await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' });
    await client.messages.countTokens(PARAMS);
    await client.messages.countTokens(PARAMS);
    let stats = emulator.stats();
    assert.equal(stats.tokenCounts, 2);
    assert.equal(stats.calls.count_tokens, 2);
    assert.equal(stats.billableCalls, 0);
    await client.messages.create({ ...PARAMS, max_tokens: 8 });
    stats = emulator.stats();
    assert.equal(stats.billableCalls, 1);
    assert.equal(stats.tokenCounts, 2);
  });
});
