/**
 * Sluice's workflows bundled once per test run: every worker a test file starts (test/helpers/stack.ts, worker
 * processes) loads one bundle instead of running webpack again at each Worker.create, which on a busy machine costs
 * seconds per worker. `npm test` runs each file in a process of its own, so the bundle is kept in the temporary
 * directory under a name made from what goes into it (every source file and the locked dependencies): the first file
 * of a run bundles, the others read it, and a change to any source makes a new one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { SLUICE_WORKFLOWS_PATH } from '../../src/plugin/combined-workflows';

const ROOT = path.join(__dirname, '..', '..');

let bundled: Promise<string> | undefined;

/** The path of the run's workflow bundle (for SluiceWorkerOptions.workflowBundlePath, SLUICE_WORKFLOW_BUNDLE). */
export function sharedWorkflowBundlePath(): Promise<string> {
  bundled ??= (async () => {
    const file = path.join(os.tmpdir(), 'sluice-test-bundles', `workflows-${sourcesHash()}.js`);
    if (existsSync(file)) return file;
    const { code } = await bundleWorkflowCode({ workflowsPath: SLUICE_WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    await mkdir(path.dirname(file), { recursive: true });
    // Written aside and renamed: a file running beside this one reads a whole bundle or none.
    const aside = `${file}.${process.pid}.tmp`;
    await writeFile(aside, code);
    await rename(aside, file);
    return file;
  })();
  return bundled;
}

/**
 * A digest of everything the bundle is made from: the checkout's place (the bundle names its source files, which
 * stack traces show), the sources under src/ and the locked dependency tree.
 */
function sourcesHash(): string {
  const hash = createHash('sha256').update(ROOT).update('\0');
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else hash.update(path.relative(ROOT, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  visit(path.join(ROOT, 'src'));
  hash.update(readFileSync(path.join(ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 20);
}
