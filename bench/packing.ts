/**
 * `npm run bench:pack`: the README's example (examples/reviews: 200 review rows and a prompt template) run on the
 * emulator, on a real Temporal dev server: one request per row, with --pack (default 20), and packed with
 * --cache-prefix, printing each job's summary as `sluice run` prints it and a table of the costs side by side.
 *
 *   npm run bench:pack -- --pack 10 --template prompt.md
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startJob, waitForJob } from '../src/client/jobs';
import { readTemplateFile } from '../src/client/template-file';
import { templateLines } from '../src/client/template-input';
import type { JobSummary } from '../src/contracts/activities';
import { printSummary } from '../src/cli/summary';
import { freePort, startDevServer } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import { startEmulator } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { createSluiceWorker } from '../src/worker';
import { printTable } from './report';

const { values: args } = parseArgs({ options: { pack: { type: 'string', default: '20' }, template: { type: 'string', default: 'prompt-guide.md' } } });
const PACK = Number(args.pack);
const EXAMPLE = path.join(__dirname, '..', 'examples', 'reviews');
const ROWS = path.join(EXAMPLE, 'reviews.csv');
// The guide's long system prompt is the prefix packed prompts share: long enough for the model to cache it.
const TEMPLATE = path.join(EXAMPLE, args.template);

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-pack-'));
  const server = await startDevServer({ binary: await requireTemporalCliPath({ log: console.error }), port: await freePort() });
  const emulator = await startEmulator({ timeScale: 0.0001, latency: { batch: { kind: 'fixed', ms: 60_000 } } });
  const store = new LocalDirectoryStore(path.join(tmp, 'store'));
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await createSluiceWorker({ connection, namespace: 'default', taskQueue: 'bench-pack', apiKey: emulator.apiKey, baseURL: emulator.url, store });
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  const { template, defaults } = await readTemplateFile(TEMPLATE);

  const run = async (name: string, pack?: number, cachePrefix = false): Promise<JobSummary> => {
    const { workflowId } = await startJob({
      client,
      store,
      taskQueue: 'bench-pack',
      file: ROWS,
      name,
      defaults,
      options: { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 }, ...(cachePrefix && { cachePrefix: { ttl: '1h' as const } }) },
      lines: templateLines({ rowsFile: ROWS, template, pack, maxLineBytes: 1_000_000 }),
    });
    return waitForJob(client, workflowId);
  };
  const summaries = await worker.runUntil(async () => [await run('reviews'), await run(`reviews-pack-${PACK}`, PACK), await run(`reviews-pack-${PACK}-cached`, PACK, true)] as const);
  for (const s of summaries) printSummary(s);
  console.log('');
  printTable(
    ['examples/reviews (200 rows)', 'requests', 'input tokens', 'output tokens', 'cost', 'cost a row'],
    summaries.map((s, i) => [
      ['one request per row', `--pack ${PACK}`, `--pack ${PACK} --cache-prefix`][i]!,
      String(s.packing?.prompts ?? s.requests),
      String(s.tokens.input),
      String(s.tokens.output),
      `$${s.costUsd.toFixed(4)}`,
      `$${(s.costUsd / s.requests).toFixed(6)}`,
    ]),
  );
  await clientConnection.close();
  await connection.close();
  await emulator.close();
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
