/**
 * Answers of a requested shape, observed through the official SDK: a prompt that mentions JSON is answered with a
 * JSON object, in a batch and synchronously alike; `faults.badAnswers` aims prose, wrong-shaped or fenced JSON at
 * chosen requests by custom_id or by content; a JSON answer that does not fit max_tokens is cut, as a model's is.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmulatorOptions } from '../src/emulator';
import { startEmulator } from '../src/emulator';

type BatchRequest = Anthropic.Messages.Batches.BatchCreateParams.Request;

function request(customId: string, content: string, maxTokens = 256): BatchRequest {
  return { custom_id: customId, params: { model: 'claude-haiku-4-5', max_tokens: maxTokens, messages: [{ role: 'user', content }] } };
}

async function answersOf(faults: EmulatorOptions['faults'], requests: BatchRequest[]): Promise<Map<string, Anthropic.Message>> {
  const handle = await startEmulator({ timeScale: 1e-4, latency: { batch: { kind: 'fixed', ms: 60_000 } }, faults });
  const client = new Anthropic({ apiKey: handle.apiKey, baseURL: handle.url, maxRetries: 0 });
  try {
    const batch = await client.messages.batches.create({ requests });
    for (let i = 0; (await client.messages.batches.retrieve(batch.id)).processing_status !== 'ended'; i++) {
      assert.ok(i < 500, 'the batch ends');
      await new Promise((r) => setTimeout(r, 10));
    }
    const out = new Map<string, Anthropic.Message>();
    for await (const line of await client.messages.batches.results(batch.id)) {
      assert.equal(line.result.type, 'succeeded', `${line.custom_id} succeeded`);
      if (line.result.type === 'succeeded') out.set(line.custom_id, line.result.message);
    }
    // The synchronous endpoint answers the same request the same way.
    const sync = await client.messages.create(requests[0]!.params);
    out.set('sync', sync);
    return out;
  } finally {
    await handle.close();
  }
}

const textOf = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

test('a prompt that mentions JSON gets a JSON object; other prompts get prose', async () => {
  const answers = await answersOf({}, [request('a', 'Classify this. Answer in JSON.'), request('b', 'Say hello')]);
  const a = JSON.parse(textOf(answers.get('a')!)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(a).sort(), ['id', 'label', 'score', 'tags']);
  assert.equal(typeof a['label'], 'string');
  assert.equal(answers.get('a')!.stop_reason, 'end_turn');
  assert.equal(answers.get('a')!.usage.output_tokens, Math.ceil(textOf(answers.get('a')!).length / 4));
  assert.throws(() => JSON.parse(textOf(answers.get('b')!)) as unknown);
  assert.equal(textOf(answers.get('sync')!), textOf(answers.get('a')!), 'the same answer synchronously');
});

test('badAnswers aims prose, a wrong shape or a fence at chosen requests, by custom_id or by content', async () => {
  const answers = await answersOf(
    {
      badAnswers: [
        { pattern: 'BROKEN', in: 'messages', answer: 'prose' },
        { pattern: '^shape-', answer: 'wrong_shape' },
        { pattern: '^fence-', answer: 'fenced_json' },
      ],
    },
    [
      request('p-1', 'BROKEN prompt, answer in JSON'),
      request('shape-1', 'answer in JSON'),
      request('fence-1', 'answer in JSON'),
      request('ok-1', 'answer in JSON'),
    ],
  );
  assert.throws(() => JSON.parse(textOf(answers.get('p-1')!)) as unknown, 'prose is not JSON');
  assert.equal(textOf(answers.get('sync')!), textOf(answers.get('p-1')!), 'a content rule holds synchronously too');
  assert.deepEqual(Object.keys(JSON.parse(textOf(answers.get('shape-1')!)) as object), ['note']);
  const fenced = textOf(answers.get('fence-1')!);
  assert.match(fenced, /^```json\n\{.*\}\n```$/);
  assert.deepEqual(Object.keys(JSON.parse(textOf(answers.get('ok-1')!)) as object).sort(), ['id', 'label', 'score', 'tags']);
});

test('a JSON answer longer than max_tokens is cut there, with stop_reason max_tokens', async () => {
  const answers = await answersOf({}, [request('short', 'JSON please', 4)]);
  const m = answers.get('short')!;
  assert.equal(m.stop_reason, 'max_tokens');
  assert.equal(m.usage.output_tokens, 4);
  assert.equal(textOf(m).length, 16);
});
