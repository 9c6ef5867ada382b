// Builds (once per machine) and prints the Temporal server, its SQL schema tool and the Web UI server; CI calls this as its own
// step so the build time shows up there rather than inside the stack test.
import { ensureTemporalServer, ensureTemporalUiServer } from '../src/dev/temporal-server';

async function main() {
  const started = Date.now();
  const bins = await ensureTemporalServer({ log: (line) => console.error(line) });
  console.error(`Temporal server and SQL tool (${bins.built ? 'built' : 'cached'}, ${Date.now() - started} ms)`);
  console.log(bins.server);
  console.log(bins.sqlTool);
  const ui = await ensureTemporalUiServer({ log: (line) => console.error(line) });
  if (ui) console.log(ui);
  console.error(`All built or found in ${Date.now() - started} ms`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
