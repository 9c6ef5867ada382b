/**
 * `npm run chaos`: a job of 10,000 requests against the emulator with faults on every endpoint, while the worker
 * is killed with SIGKILL and the Temporal dev server restarted at seeded moments. Prints a table of checks and
 * exits non-zero on any violation.
 *
 *   npm run chaos -- --requests 2000 --kills 3 --restarts 1 --seed 7 --timing between-activities --keep
 *   npm run chaos -- --jobs 2      # two jobs of one file at once: equal sub-batch sizes, the same custom_ids
 *   npm run chaos -- --stall-ms 600000   # call the run stuck only after 10 min without any job moving
 *   npm run chaos -- --mode sync   # every request by the synchronous API: counts the calls sent again after a lost answer
 */
import { parseArgs } from 'node:util';
import { formatReport, runChaos } from './chaos/harness';
import { DEFAULT_CHAOS_OPTIONS } from './chaos/options';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.requests) },
    jobs: { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.jobs) },
    kills: { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.workerKills) },
    restarts: { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.serverRestarts) },
    seed: { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.seed) },
    timing: { type: 'string', default: DEFAULT_CHAOS_OPTIONS.chaosTiming },
    mode: { type: 'string', default: 'batch' },
    'stall-ms': { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.stallMs) },
    keep: { type: 'boolean', default: false },
  },
});

function whole(name: string, text: string | undefined): number {
  if (!text || !/^\d+$/.test(text)) throw new Error(`--${name} must be a whole number (got "${text}")`);
  return Number(text);
}

async function main(): Promise<number> {
  const timing = args.timing;
  if (timing !== 'anytime' && timing !== 'between-activities') throw new Error('--timing must be anytime or between-activities');
  if (args.mode !== 'batch' && args.mode !== 'sync') throw new Error('--mode must be batch or sync');
  const report = await runChaos({
    job: args.mode === 'sync' ? { sla: { mode: 'sync' } } : {},
    requests: whole('requests', args.requests),
    jobs: Math.max(1, whole('jobs', args.jobs)),
    workerKills: whole('kills', args.kills),
    serverRestarts: whole('restarts', args.restarts),
    seed: whole('seed', args.seed),
    chaosTiming: timing,
    stallMs: whole('stall-ms', args['stall-ms']),
    keep: args.keep,
  });
  console.log(formatReport(report));
  if (report.workDir) console.log(`\nwork dir kept: ${report.workDir}`);
  const violations = report.checks.filter((c) => !c.ok).length;
  console.log(violations === 0 ? '\nchaos: no violations' : `\nchaos: ${violations} VIOLATION(S)`);
  return violations === 0 ? 0 : 1;
}

// Ctrl-C: exit, so the children (dev server, emulator, worker) are killed by their exit hooks.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
