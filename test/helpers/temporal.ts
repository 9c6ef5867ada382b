/**
 * One real Temporal dev server per test process (node's runner gives each test file its own process),
 * started through @temporalio/testing from the binary that src/dev/temporal-cli.ts finds or builds.
 * Each test takes its own task queue, so tests never see each other's work.
 *
 * Teardown comes last: this module's root `after` hook is registered first (imports run before the file's body),
 * so it runs before a file's own root `after` that stops its workers. While any worker still holds the shared
 * connection the hook leaves the environment open and closes it once the last one has stopped; a worker that never
 * stops within WORKER_STOP_GRACE_MS fails the file (exit code 1) instead of printing a warning and hanging on.
 */
import { after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { extractReferenceHolders } from '@temporalio/worker/lib/connection';
import { dynamicConfigFlags } from '../../src/dev/dev-server';
import { findTemporalCli } from '../../src/dev/temporal-cli';
import { sluiceSearchAttributes } from '../../src/workflows/search-attributes';

// Worker INFO lines (bundle sizes, state changes) drown the test report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

let envPromise: Promise<TestWorkflowEnvironment> | undefined;

export function testEnv(): Promise<TestWorkflowEnvironment> {
  envPromise ??= (async () => {
    const cli = await findTemporalCli({ log: (line) => console.error(line) });
    const executable =
      cli.kind === 'path' ? { type: 'existing-path' as const, path: cli.path } : { type: 'cached-download' as const };
    return TestWorkflowEnvironment.createLocal({
      // The dev server as `sluice dev` runs it (eager activity dispatch, timers that fire on time).
      server: { executable, searchAttributes: sluiceSearchAttributes, extraArgs: dynamicConfigFlags(), log: { format: 'pretty', level: 'error' } },
    });
  })();
  return envPromise;
}

/** How long after the root hooks start the workers a file started may take to stop before the file fails. */
const WORKER_STOP_GRACE_MS = 60_000;

after(async () => {
  if (!envPromise) return;
  const env = await envPromise;
  const holders = extractReferenceHolders(env.nativeConnection);
  if (holders.size === 0) return teardown(env);
  // The file's own `after` hooks (registered after this one) stop these workers: close once they have. The
  // pending timer keeps the process alive until then.
  void (async () => {
    const deadline = Date.now() + WORKER_STOP_GRACE_MS;
    while (holders.size > 0 && Date.now() < deadline) await sleep(20);
    const stuck = holders.size > 0;
    await teardown(env);
    // A worker that never stopped (say, of a test that timed out) keeps polling and the process would never end.
    if (stuck) process.exit(1);
  })();
});

async function teardown(env: TestWorkflowEnvironment): Promise<void> {
  const held = extractReferenceHolders(env.nativeConnection).size;
  if (held > 0) {
    process.exitCode = 1;
    console.error(
      `test/helpers/temporal.ts: ${held} worker(s) still hold the test server's connection ${WORKER_STOP_GRACE_MS} ms after ` +
        `the tests ended: stop (shutdown() and await run()) every worker the file starts`,
    );
  }
  await env.teardown();
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
