/**
 * Sluice's workflows bundled once per test process: every worker a test file starts (test/helpers/stack.ts, worker
 * processes) loads this one bundle instead of running webpack again at each Worker.create, which on a busy machine
 * costs seconds per worker.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { SLUICE_WORKFLOWS_PATH } from '../../src/plugin/combined-workflows';

let bundled: Promise<string> | undefined;

/** The path of the process's workflow bundle (for SluiceWorkerOptions.workflowBundlePath, SLUICE_WORKFLOW_BUNDLE). */
export function sharedWorkflowBundlePath(): Promise<string> {
  bundled ??= (async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: SLUICE_WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-bundle-')), 'workflows.js');
    await writeFile(file, code);
    return file;
  })();
  return bundled;
}
