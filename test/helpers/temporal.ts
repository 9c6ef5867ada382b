/**
 * One real Temporal dev server per test process (node's runner gives each test file its own process),
 * started through @temporalio/testing from the binary that src/dev/temporal-cli.ts finds or builds.
 * Each test takes its own task queue, so tests never see each other's work.
 */
import { after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
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
      server: { executable, searchAttributes: sluiceSearchAttributes, log: { format: 'pretty', level: 'error' } },
    });
  })();
  return envPromise;
}

after(async () => {
  if (envPromise) await (await envPromise).teardown();
});

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
