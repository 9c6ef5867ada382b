/**
 * Emulator benchmark (`npm run bench:emulator`): a 100,000-request (~50 MB) create through the SDK, then the
 * full results download, while the emulator — in a child process, so its memory is its own — samples
 * process.memoryUsage() every 50 ms.
 *
 * Targets: create accepted in under 3 s; results streamed (peak RSS far below the size of the file).
 */
import Anthropic from '@anthropic-ai/sdk';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { startEmulator } from '../src/emulator';

const REQUESTS = 100_000;
const PROMPT_CHARS = 440;
const SAMPLE_MS = 50;
const MB = 1024 * 1024;

type ToChild = { type: 'resetPeak' } | { type: 'peak' } | { type: 'stop' };
type FromChild =
  { type: 'ready'; url: string; apiKey: string } | { type: 'peak'; rssBytes: number; heapUsedBytes: number };

// ---- child: the emulator ----
async function child(): Promise<void> {
  const handle = await startEmulator({ timeScale: 1e-6, latency: { batch: { kind: 'fixed', ms: 60_000 } } });
  let peak = { rssBytes: 0, heapUsedBytes: 0 };
  const sample = (): void => {
    const usage = process.memoryUsage();
    peak = {
      rssBytes: Math.max(peak.rssBytes, usage.rss),
      heapUsedBytes: Math.max(peak.heapUsedBytes, usage.heapUsed),
    };
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  process.on('message', (message: ToChild) => {
    if (message.type === 'resetPeak') {
      (globalThis as { gc?: () => void }).gc?.();
      peak = { rssBytes: 0, heapUsedBytes: 0 };
      sample();
      process.send?.({ type: 'peak', ...peak } satisfies FromChild);
    } else if (message.type === 'peak') {
      sample();
      process.send?.({ type: 'peak', ...peak } satisfies FromChild);
    } else {
      clearInterval(sampler);
      void handle.close().then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', url: handle.url, apiKey: handle.apiKey } satisfies FromChild);
}

// ---- parent: the client ----
function nextMessage(proc: ChildProcess): Promise<FromChild> {
  return new Promise((resolve) => proc.once('message', (message: FromChild) => resolve(message)));
}

interface Memory {
  rssBytes: number;
  heapUsedBytes: number;
}

/** Collects garbage in the emulator process and starts a new peak; returns the memory in use then. */
async function baselineOf(proc: ChildProcess): Promise<Memory> {
  return ask(proc, { type: 'resetPeak' });
}

async function peakOf(proc: ChildProcess): Promise<Memory> {
  return ask(proc, { type: 'peak' });
}

function describe(before: Memory, peak: Memory): string {
  const mb = (bytes: number): string => (bytes / MB).toFixed(0);
  return `RSS ${mb(before.rssBytes)} → ${mb(peak.rssBytes)} MB, heap ${mb(before.heapUsedBytes)} → ${mb(peak.heapUsedBytes)} MB`;
}

async function ask(proc: ChildProcess, request: ToChild): Promise<Memory> {
  const reply = nextMessage(proc);
  proc.send(request);
  const message = await reply;
  if (message.type !== 'peak') throw new Error('unexpected message from the emulator process');
  return message;
}

function requests(): Anthropic.Messages.Batches.BatchCreateParams.Request[] {
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(PROMPT_CHARS / 27)).slice(0, PROMPT_CHARS);
  return Array.from({ length: REQUESTS }, (_, i) => ({
    custom_id: `req-${i}`,
    params: {
      model: 'claude-haiku-4-5',
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: `${i} ${filler}` }],
    },
  }));
}

async function parent(): Promise<void> {
  const proc = fork(__filename, ['--child'], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: 'inherit' });
  const ready = await nextMessage(proc);
  if (ready.type !== 'ready') throw new Error('emulator process did not start');
  const client = new Anthropic({ apiKey: ready.apiKey, baseURL: ready.url, maxRetries: 0, timeout: 120_000 });
  const rows: [string, string][] = [];
  try {
    const body = { requests: requests() };
    const bodyBytes = Buffer.byteLength(JSON.stringify(body));
    const beforeCreate = await baselineOf(proc);
    let started = performance.now();
    const batch = await client.messages.batches.create(body);
    const createMs = performance.now() - started;
    const createPeak = await peakOf(proc);
    rows.push(['create body', `${(bodyBytes / MB).toFixed(1)} MB, ${REQUESTS.toLocaleString('en')} requests`]);
    rows.push(['create accepted (SDK, incl. serialisation)', `${(createMs / 1000).toFixed(2)} s (target < 3 s)`]);
    rows.push(['emulator memory: before create → peak', describe(beforeCreate, createPeak)]);

    while ((await client.messages.batches.retrieve(batch.id)).processing_status !== 'ended') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ended = await client.messages.batches.retrieve(batch.id);

    const beforeResults = await baselineOf(proc);
    started = performance.now();
    const response = await fetch(ended.results_url!, { headers: { authorization: `Bearer ${ready.apiKey}` } });
    let bytes = 0;
    for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    const rawMs = performance.now() - started;
    const rawPeak = await peakOf(proc);
    rows.push(['results file', `${(bytes / MB).toFixed(1)} MB`]);
    rows.push([
      'results download (raw fetch)',
      `${(rawMs / 1000).toFixed(2)} s, ${(bytes / MB / (rawMs / 1000)).toFixed(1)} MB/s`,
    ]);
    rows.push(['emulator memory: before results → peak', describe(beforeResults, rawPeak)]);

    started = performance.now();
    let lines = 0;
    for await (const _line of await client.messages.batches.results(batch.id)) lines++;
    const sdkMs = performance.now() - started;
    rows.push([
      'results via SDK (decode + JSON.parse)',
      `${lines.toLocaleString('en')} lines in ${(sdkMs / 1000).toFixed(2)} s, ${(bytes / MB / (sdkMs / 1000)).toFixed(1)} MB/s`,
    ]);
  } finally {
    proc.send({ type: 'stop' } satisfies ToChild);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(`\nSluice emulator benchmark (node ${process.version})\n`);
  for (const [name, value] of rows) process.stdout.write(`  ${name.padEnd(width)}  ${value}\n`);
}

if (process.argv.includes('--child')) {
  child().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  parent().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
