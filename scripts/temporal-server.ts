// Builds (once per machine) and prints the Temporal server and its SQL schema tool; CI calls this as its own
// step so the build time shows up there rather than inside the stack test.
import { ensureTemporalServer } from '../src/dev/temporal-server';

async function main() {
  const started = Date.now();
  const bins = await ensureTemporalServer({ log: (line) => console.error(line) });
  console.error(`Temporal server and SQL tool (${bins.built ? 'built' : 'cached'}, ${Date.now() - started} ms)`);
  console.log(bins.server);
  console.log(bins.sqlTool);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
