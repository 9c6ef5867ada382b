/**
 * Streams a batch's result lines. With the results_url the poll already saw, it is one GET; the SDK's
 * `batches.results(id)` would first retrieve the batch again, one extra call per batch.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';

export async function* streamBatchResults(
  anthropic: Anthropic,
  batchId: string,
  resultsUrl: string | undefined,
): AsyncGenerator<MessageBatchIndividualResponse> {
  if (!resultsUrl) {
    yield* await anthropic.messages.batches.results(batchId);
    return;
  }
  // The same request the SDK makes after its retrieve: binary body, the SDK's auth, retries and errors.
  const response = await anthropic.get<Response>(resultsUrl, {
    headers: { Accept: 'application/binary' },
    __binaryResponse: true,
  });
  if (!response.body) return;
  const input = Readable.fromWeb(response.body as never);
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() !== '') yield JSON.parse(line) as MessageBatchIndividualResponse;
    }
  } finally {
    // A reader that leaves early (reconciliation reads one line to learn whose a batch is) leaves the body flowing; a
    // cut that comes later must not surface as an unhandled 'error' on the interface: chaos seed 2 saw that exit the
    // worker ("terminated", "other side closed"), stopping every activity and workflow task it ran.
    lines.on('error', () => undefined);
    input.on('error', () => undefined);
    lines.close();
    input.destroy();
  }
}
