/**
 * The baseline `npm run bench` compares Sluice with: the least a program must do to run a JSONL file through the
 * Message Batches API with the official SDK, and nothing more. No Temporal, no store, no retries of failed
 * requests: ceil(N / batch size) creates at bounded concurrency, list polling on the same cadence as the job
 * (one walk of the newest batches per tick), one results download per ended batch.
 *
 * Run by bench/job.ts in its own process, so its CPU is its own; prints one JSON line (BareLoopResult).
 *
 *   tsx bench/bare-loop.ts --input in.jsonl --base-url http://127.0.0.1:4010 [--concurrency 8]
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import type { BatchCreateParams } from '@anthropic-ai/sdk/resources/messages/batches';

export interface BareLoopResult {
  wallMs: number;
  cpuMs: number;
  batches: number;
  succeeded: number;
  otherResults: number;
  peakRssBytes: number;
}

const { values: args } = parseArgs({
  options: {
    input: { type: 'string' },
    'base-url': { type: 'string' },
    'api-key': { type: 'string', default: 'sk-emulator' },
    'batch-size': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
    'max-in-flight': { type: 'string', default: '1000' },
    'poll-initial-ms': { type: 'string', default: '250' },
    'poll-growth': { type: 'string', default: '1.5' },
    'poll-cap-ms': { type: 'string', default: '1000' },
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<BareLoopResult> {
  if (!args.input || !args['base-url']) throw new Error('bare-loop needs --input and --base-url');
  const batchSize = Number(args['batch-size']);
  const concurrency = Number(args.concurrency);
  const maxInFlight = Number(args['max-in-flight']);
  const poll = { initialMs: Number(args['poll-initial-ms']), growth: Number(args['poll-growth']), capMs: Number(args['poll-cap-ms']) };
  const client = new Anthropic({ apiKey: args['api-key'], baseURL: args['base-url'] });
  const started = Date.now();
  const cpuStart = process.cpuUsage();

  const chunks: BatchCreateParams.Request[][] = [[]];
  for await (const text of createInterface({ input: createReadStream(args.input), crlfDelay: Infinity })) {
    if (text.trim() === '') continue;
    if (chunks[chunks.length - 1]!.length === batchSize) chunks.push([]);
    chunks[chunks.length - 1]!.push(JSON.parse(text) as BatchCreateParams.Request);
  }

  /** Batch id → created_at (ms), for the batches created and not yet seen ended. */
  const inFlight = new Map<string, number>();
  let next = 0;
  let creating = 0;
  let succeeded = 0;
  let otherResults = 0;
  /** Submitters waiting for room in flight. */
  const waiting: (() => void)[] = [];

  const submitter = async () => {
    while (next < chunks.length) {
      while (inFlight.size + creating >= maxInFlight) await new Promise<void>((r) => waiting.push(r));
      const requests = chunks[next++]!;
      creating++;
      const batch = await client.messages.batches.create({ requests });
      creating--;
      inFlight.set(batch.id, Date.parse(batch.created_at));
    }
  };
  const submitting = Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, submitter));
  let submitted = false;
  void submitting.then(() => (submitted = true));

  const download = async (resultsUrl: string) => {
    const response = await client.get<Response>(resultsUrl, { headers: { Accept: 'application/binary' }, __binaryResponse: true });
    if (!response.body) return;
    for await (const line of createInterface({ input: Readable.fromWeb(response.body as never), crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      const item = JSON.parse(line) as { result: { type: string } };
      if (item.result.type === 'succeeded') succeeded++;
      else otherResults++;
    }
  };

  let intervalMs = poll.initialMs;
  while (!submitted || inFlight.size > 0 || creating > 0) {
    await sleep(intervalMs);
    if (inFlight.size === 0) continue;
    const oldestMs = Math.min(...inFlight.values());
    const ended: string[] = [];
    // One walk of the list, newest first, until every batch in flight was seen or the list is older than all of them.
    let page = await client.messages.batches.list({ limit: 1000 });
    let seen = 0;
    pages: for (;;) {
      for (const batch of page.data) {
        if (inFlight.has(batch.id)) {
          seen++;
          if (batch.processing_status === 'ended' && batch.results_url) ended.push(batch.results_url, batch.id);
        }
        if (seen === inFlight.size || Date.parse(batch.created_at) < oldestMs) break pages;
      }
      if (!page.hasNextPage()) break;
      page = await page.getNextPage();
    }
    const urls: string[] = [];
    for (let i = 0; i < ended.length; i += 2) {
      urls.push(ended[i]!);
      inFlight.delete(ended[i + 1]!);
    }
    await mapLimit(urls, concurrency, download);
    waiting.splice(0).forEach((wake) => wake());
    intervalMs = urls.length > 0 ? poll.initialMs : Math.min(poll.capMs, Math.round(intervalMs * poll.growth));
  }
  await submitting;
  const cpu = process.cpuUsage(cpuStart);
  return {
    wallMs: Date.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    batches: chunks.length,
    succeeded,
    otherResults,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const lane = async () => {
    while (i < items.length) await fn(items[i++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

main().then(
  (result) => console.log(JSON.stringify(result)),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
