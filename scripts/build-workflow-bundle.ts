// Prebuilds the workflow bundle (production images, benchmarks): a worker given SLUICE_WORKFLOW_BUNDLE skips
// webpack at start, which saves seconds and a few hundred MB of peak memory.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main() {
  const out = path.resolve(process.argv[2] ?? path.join('lib', 'workflow-bundle.js'));
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: undefined });
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, code);
  console.log(out);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
