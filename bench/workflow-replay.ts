/**
 * `npm run bench:replay`: what a job's workflow code costs, without a server and without the noise of a shared
 * machine. Replays the job histories `npm run bench -- --keep` wrote (`<kept dir>/histories/job.json`) on this
 * checkout's workflow code, in this thread (the SDK's debug mode), and counts what the worker's workflow thread
 * pays: the calls into the workflow sandbox (each a `vm` run with the isolate execution timeout, so a watchdog
 * thread started and joined), the promises the workflow made (the SDK records a source-mapped stack trace for each,
 * for the stack trace query), and the time spent inside the sandbox, with the watchdog and without it.
 *
 *   npm run bench:replay -- --histories <kept dir>/histories/job.json [--repeat 3]
 *
 * A history replays on code whose patches it took: a history recorded before a patch replays the old path, so a
 * before/after pair is two histories (one from each side's `npm run bench -- --keep`) replayed on the newer code.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { printTable } from './report';

const { values: args } = parseArgs({
  options: { histories: { type: 'string' }, repeat: { type: 'string', default: '3' } },
});
if (!args.histories) throw new Error('--histories <kept dir>/histories/job.json (from npm run bench -- --keep)');

Runtime.install({ logger: new DefaultLogger('WARN') });

// Counted from outside the SDK: every call into the sandbox goes through vm.Script#runInContext.
let calls = 0;
let insideNs = 0n;
let withoutWatchdog = false;
// eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the script as `this`
const runInContext = vm.Script.prototype.runInContext;
vm.Script.prototype.runInContext = function (this: vm.Script, ...a: Parameters<typeof runInContext>): unknown {
  calls++;
  if (withoutWatchdog && a[1]) a[1] = { ...a[1], timeout: undefined };
  const t0 = process.hrtime.bigint();
  try {
    return runInContext.apply(this, a) as unknown;
  } finally {
    insideNs += process.hrtime.bigint() - t0;
  }
};
// The sandbox's promises are of its own realm: their constructor is not this realm's Promise.
let promises = 0;
v8.promiseHooks.onInit((p: Promise<unknown>) => {
  if (p.constructor !== Promise) promises++;
});

async function main() {
  const parsed = JSON.parse(await readFile(args.histories!, 'utf8')) as unknown;
  const runs = (Array.isArray(parsed) ? parsed : [parsed]) as temporal.api.history.v1.IHistory[];
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: new DefaultLogger('WARN') });
  // debugMode (left out of the replay options' type, honoured by the replay worker): the sandbox runs in this
  // thread, where the counters above see it.
  const options = { workflowBundle, debugMode: true, replayName: 'bench-replay' };
  const rows: string[][] = [];
  for (const [i, run] of runs.entries()) {
    const history = temporal.api.history.v1.History.fromObject(run);
    const tasks = history.events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
    // One replay first, not counted: the first one also compiles the bundle's code.
    await Worker.runReplayHistory(options, history, `warm-up-${i}`);
    // The two arms alternate within the repeats (with, without, with, ...): the machine's load moves both alike.
    const best = new Map<boolean, { insideMs: number; calls: number; promises: number }>();
    for (let r = 0; r < Number(args.repeat); r++) {
      for (const watchdog of [true, false]) {
        withoutWatchdog = !watchdog;
        calls = 0;
        promises = 0;
        insideNs = 0n;
        await Worker.runReplayHistory(options, history, `replay-${i}`);
        const insideMs = Number(insideNs) / 1e6;
        if (insideMs < (best.get(watchdog)?.insideMs ?? Infinity)) best.set(watchdog, { insideMs, calls, promises });
      }
    }
    for (const [watchdog, b] of best) {
      rows.push([
        String(i + 1),
        String(history.events.length),
        String(tasks),
        watchdog ? 'yes (as the worker)' : 'no',
        String(b.calls),
        String(b.promises),
        `${b.insideMs.toFixed(0)} ms`,
        `${((b.insideMs * 1000) / Math.max(1, tasks)).toFixed(0)} µs`,
      ]);
    }
  }
  console.log(`\nThe job's workflow code, replayed (${args.histories}; best of ${args.repeat})`);
  printTable(['run', 'events', 'workflow tasks', 'watchdog', 'calls into the sandbox', 'promises', 'time in the sandbox', 'per task'], rows);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
