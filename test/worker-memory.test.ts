// A worker keeps within a memory budget by itself: the sizing rule (pure), and the real `sluice worker` started with
// a small budget, which runs itself again with the heap limit it chose and reports it with --print-config.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { containerLimitMb, heapFlagMb, memoryBudget, sizeWorker } from '../src/domain/worker-sizing';

describe('sizing a worker from its memory budget', () => {
  test('the heap leaves room for what lives outside it, and slots and cache grow with the heap', () => {
    const small = sizeWorker(512, 'SLUICE_WORKER_MEMORY_MB');
    const large = sizeWorker(2_048, 'SLUICE_WORKER_MEMORY_MB');
    assert.deepEqual(small, { budgetMb: 512, budgetSource: 'SLUICE_WORKER_MEMORY_MB', heapMb: 192, activitySlots: 24, workflowCache: 96 });
    assert.equal(large.heapMb, 1_344);
    assert.ok(large.activitySlots > small.activitySlots && large.workflowCache > small.workflowCache);
    for (const budget of [352, 512, 1_024, 4_096, 65_536]) {
      const s = sizeWorker(budget, 'default');
      assert.ok(s.heapMb + 250 <= budget, `${budget} MB: heap ${s.heapMb} MB leaves too little outside it`);
      assert.ok(s.activitySlots >= 4 && s.activitySlots <= 256, `${budget} MB: ${s.activitySlots} slots`);
      assert.ok(s.workflowCache >= 10 && s.workflowCache <= 2_000, `${budget} MB: cache ${s.workflowCache}`);
    }
  });

  test('SLUICE_ACTIVITY_CONCURRENCY and SLUICE_WORKFLOW_CACHE win over the sizes', () => {
    const s = sizeWorker(512, 'default', { activitySlots: 3, workflowCache: 500 });
    assert.equal(s.activitySlots, 3);
    assert.equal(s.workflowCache, 500);
    assert.equal(s.heapMb, 192);
  });

  test('the budget: the setting, else the container limit, else the default', () => {
    assert.deepEqual(memoryBudget(300, 2_000), { budgetMb: 300, source: 'SLUICE_WORKER_MEMORY_MB' });
    assert.deepEqual(memoryBudget(undefined, 2_000), { budgetMb: 2_000, source: 'container limit' });
    assert.deepEqual(memoryBudget(undefined, undefined), { budgetMb: 1_024, source: 'default' });
  });

  test('cgroup limits as the kernel writes them', () => {
    assert.equal(containerLimitMb('536870912\n'), 512);
    assert.equal(containerLimitMb('max\n'), undefined); // cgroup v2: no limit
    assert.equal(containerLimitMb('9223372036854771712\n'), undefined); // cgroup v1: no limit
    assert.equal(containerLimitMb(undefined), undefined);
  });

  test('a heap flag given to Node is found in either spelling', () => {
    assert.equal(heapFlagMb(['--import', 'tsx', '--max-old-space-size=300']), 300);
    assert.equal(heapFlagMb(['--max_old_space_size', '200']), 200);
    assert.equal(heapFlagMb(['--import', 'tsx']), undefined);
  });
});

const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.ts');

function printConfig(env: Record<string, string | undefined>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', '--print-config'], {
      env: { ...process.env, NODE_OPTIONS: undefined, SLUICE_ACTIVITY_CONCURRENCY: undefined, SLUICE_WORKFLOW_CACHE: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('sluice worker --print-config', () => {
  test('a small budget: the worker runs with the heap limit it chose, and says which sizes it took', { timeout: 60_000 }, async () => {
    const r = await printConfig({ SLUICE_WORKER_MEMORY_MB: '400' });
    assert.equal(r.code, 0, r.err);
    const { memory } = JSON.parse(r.out) as { memory: Record<string, unknown> };
    const expected = sizeWorker(400, 'SLUICE_WORKER_MEMORY_MB');
    assert.equal(memory.budgetMb, 400);
    assert.equal(memory.budgetSource, 'SLUICE_WORKER_MEMORY_MB');
    assert.equal(memory.heapMb, expected.heapMb);
    assert.equal(memory.heapSetBy, 'budget');
    assert.equal(memory.activitySlots, expected.activitySlots);
    assert.equal(memory.workflowCache, expected.workflowCache);
    // V8's own limit in the process that printed this: old space as chosen plus its young generation, far below
    // the default limit a 24 GB machine would give (several GB).
    const limit = memory.heapLimitMb as number;
    assert.ok(limit >= expected.heapMb && limit < expected.heapMb + 100, `V8 heap limit ${limit} MB for a ${expected.heapMb} MB heap`);
  });

  test('the worker that sets its own heap also keeps glibc to two malloc arenas; an operator\'s MALLOC_ARENA_MAX is kept', { timeout: 120_000 }, async () => {
    const own = await printConfig({ SLUICE_WORKER_MEMORY_MB: '400', MALLOC_ARENA_MAX: undefined });
    assert.equal(own.code, 0, own.err);
    assert.equal((JSON.parse(own.out) as { memory: { mallocArenaMax?: string } }).memory.mallocArenaMax, '2');
    const given = await printConfig({ SLUICE_WORKER_MEMORY_MB: '400', MALLOC_ARENA_MAX: '4' });
    assert.equal(given.code, 0, given.err);
    assert.equal((JSON.parse(given.out) as { memory: { mallocArenaMax?: string } }).memory.mallocArenaMax, '4');
  });

  test('a --max-old-space-size from the operator is kept, and said', { timeout: 60_000 }, async () => {
    const r = await printConfig({ SLUICE_WORKER_MEMORY_MB: '400', NODE_OPTIONS: '--max-old-space-size=300' });
    assert.equal(r.code, 0, r.err);
    const { memory } = JSON.parse(r.out) as { memory: Record<string, unknown> };
    assert.equal(memory.heapSetBy, 'flag');
    assert.equal(memory.heapMb, 300);
    assert.ok((memory.heapLimitMb as number) >= 300);
  });

  test('a budget too small to run in is refused, naming the variable, with exit code 2', { timeout: 60_000 }, async () => {
    const r = await printConfig({ SLUICE_WORKER_MEMORY_MB: '200' });
    assert.equal(r.code, 2);
    assert.match(r.err, /^Error: SLUICE_WORKER_MEMORY_MB: must be at least 352 \(MB\)/m);
  });
});

describe('the re-executed worker', () => {
  test('dies with its first process: kill -9 of the process an operator started stops the worker too', { timeout: 90_000 }, async () => {
    // A "Temporal server" that accepts the worker's connection and never answers keeps the worker waiting in place.
    const sockets: net.Socket[] = [];
    let connected!: () => void;
    const connection = new Promise<void>((r) => (connected = r));
    const server = net.createServer((socket) => {
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const first = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker'], {
      env: { ...process.env, NODE_OPTIONS: undefined, SLUICE_WORKER_MEMORY_MB: '400', ANTHROPIC_API_KEY: 'sk-test', TEMPORAL_ADDRESS: `127.0.0.1:${port}` },
      stdio: 'ignore',
    });
    try {
      await connection;
      const children = (await readFile(`/proc/${first.pid}/task/${first.pid}/children`, 'utf8')).trim().split(/\s+/).map(Number);
      assert.equal(children.length, 1, 'the worker runs as one child of the first process');
      const worker = children[0]!;
      assert.match(await readFile(`/proc/${worker}/cmdline`, 'utf8'), /--max-old-space-size=108\0/);
      first.kill('SIGKILL');
      const alive = () => {
        try {
          process.kill(worker, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 300 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(), false, `worker ${worker} outlived its first process`);
    } finally {
      first.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
