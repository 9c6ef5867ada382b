/** How full the account's batch queue got: read back through the official SDK from the emulator's batches. */
import Anthropic from '@anthropic-ai/sdk';
import type { EmulatorHandle } from '../../src/emulator';

/** The most requests the emulator had in progress at once, from the batches' own times (the official SDK's list). */
export async function peakInProgress(emulator: Pick<EmulatorHandle, 'apiKey' | 'url'>): Promise<number> {
  const anthropic = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url });
  const steps: [atMs: number, delta: number][] = [];
  for await (const b of anthropic.messages.batches.list({ limit: 100 })) {
    const c = b.request_counts;
    const n = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
    steps.push([Date.parse(b.created_at), n], [b.ended_at ? Date.parse(b.ended_at) : Number.MAX_SAFE_INTEGER, -n]);
  }
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, delta] of steps) peak = Math.max(peak, (now += delta));
  return peak;
}
