// Prints the path of the Temporal CLI, building it once per machine when needed (CI calls this first so the
// build time shows up as its own step rather than inside the first test).
import { findTemporalCli, temporalCliVersion } from '../src/dev/temporal-cli';

async function main() {
  const started = Date.now();
  const cli = await findTemporalCli({ log: (line) => console.error(line) });
  if (cli.kind === 'sdk-download') {
    console.error('No local Temporal CLI: tests will use the Temporal SDK download.');
    return;
  }
  console.error(`Temporal CLI (${cli.source}, ${Date.now() - started} ms): ${await temporalCliVersion(cli.path)}`);
  console.log(cli.path);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
