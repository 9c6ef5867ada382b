/**
 * A synchronous answer as the Messages API streams it (`stream: true`): server-sent events message_start,
 * content_block_start / _delta / _stop for each text block, message_delta with the stop reason and output
 * tokens, message_stop. The SDK's MessageStream rebuilds the same Message from them.
 */
import type { ServerResponse } from 'node:http';

interface StreamedMessage {
  content: { type: string; text?: string }[];
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: { output_tokens: number } & Record<string, unknown>;
}

/** The events of one message, in order. Text is sent in a few deltas, as the API does. */
export function messageEvents(message: StreamedMessage): { event: string; data: unknown }[] {
  const events: { event: string; data: unknown }[] = [];
  const start = { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } };
  events.push({ event: 'message_start', data: { type: 'message_start', message: start } });
  message.content.forEach((block, index) => {
    const text = block.text ?? '';
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
    for (let at = 0; at < text.length; at += 64) {
      const delta = { type: 'text_delta', text: text.slice(at, at + 64) };
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence },
      usage: { output_tokens: message.usage.output_tokens },
    },
  });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

export function sendMessageStream(res: ServerResponse, message: StreamedMessage): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const { event, data } of messageEvents(message)) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  res.end();
}
