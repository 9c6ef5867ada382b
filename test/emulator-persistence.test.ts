/**
 * The emulator across its own restart (statePath), and the `sluice emulator` command: flag mapping, and a
 * real process that serves the SDK and stops on SIGINT.
 */
import Anthropic from '@anthropic-ai/sdk';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { registerEmulatorCommand, toEmulatorOptions } from '../src/cli/commands/emulator';
import { parseEmulatorOptions, startEmulator } from '../src/emulator';

type BatchRequest = Anthropic.Messages.Batches.BatchCreateParams.Request;

function request(customId: string): BatchRequest {
  return {
    custom_id: customId,
    params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] },
  };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sluice-emulator-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function lines(client: Anthropic, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of await client.messages.batches.results(id)) out.push(JSON.stringify(line));
  return out;
}

test('statePath: batches, results and stats survive a restart', async () => {
  const statePath = path.join(dir, 'state.json');
  const options = { timeScale: 1e-4, statePath, latency: { batch: { kind: 'fixed' as const, ms: 60_000 } } };

  const first = await startEmulator(options);
  const client1 = new Anthropic({ apiKey: first.apiKey, baseURL: first.url, maxRetries: 0 });
  const done = await client1.messages.batches.create({ requests: [request('p-1'), request('p-2')] });
  while ((await client1.messages.batches.retrieve(done.id)).processing_status !== 'ended') {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const beforeRestart = await client1.messages.batches.retrieve(done.id);
  const linesBefore = await lines(client1, done.id);
  await first.close();
  const saved = JSON.parse(await readFile(statePath, 'utf8')) as { batches: unknown[] };
  assert.equal(saved.batches.length, 1);

  const second = await startEmulator(options);
  try {
    const client2 = new Anthropic({ apiKey: second.apiKey, baseURL: second.url, maxRetries: 0 });
    const afterRestart = await client2.messages.batches.retrieve(done.id);
    assert.deepEqual({ ...afterRestart, results_url: null }, { ...beforeRestart, results_url: null });
    assert.deepEqual(await lines(client2, done.id), linesBefore);
    assert.equal(second.stats().batches, 1);
    assert.deepEqual(second.stats().submissions['p-1'], { batch: 1, sync: 0 });

    const next = await client2.messages.batches.create({ requests: [request('p-3')] });
    assert.deepEqual(
      (await client2.messages.batches.list()).data.map((b) => b.id),
      [next.id, done.id],
    );
    assert.ok(Date.parse(next.created_at) >= Date.parse(beforeRestart.created_at), 'the clock did not go back');
  } finally {
    await second.close();
  }
});

test('emulator command: flags map onto options', () => {
  const options = toEmulatorOptions({
    port: 0,
    timeScale: 0.001,
    seed: 7,
    apiKey: 'K',
    state: 'x.json',
    faults: '{"apiError":{"rate":0.2,"endpoints":["create"]}}',
    faultRate429: 0.1,
    retryAfter: 2,
    faultRate529: 0.05,
  });
  const config = parseEmulatorOptions(options);
  assert.equal(config.port, 0);
  assert.equal(config.timeScale, 0.001);
  assert.equal(config.seed, 7);
  assert.equal(config.apiKey, 'K');
  assert.equal(config.statePath, 'x.json');
  assert.deepEqual(config.faults.apiError.endpoints, ['create']);
  assert.equal(config.faults.apiError.rate, 0.2);
  assert.equal(config.faults.rateLimit.rate, 0.1);
  assert.equal(config.faults.rateLimit.retryAfterSeconds, 2);
  assert.equal(config.faults.overloaded.rate, 0.05);
  assert.equal(parseEmulatorOptions(toEmulatorOptions({})).port, 4010);
  assert.throws(() => toEmulatorOptions({ faults: '{nope' }), /--faults is not valid JSON/);
  assert.throws(() => parseEmulatorOptions(toEmulatorOptions({ faultRate500: 2 })), /Invalid emulator options/);
});

test('emulator command: registered on a commander program with its flags', () => {
  const program = new Command();
  const command = registerEmulatorCommand(program);
  assert.equal(command.name(), 'emulator');
  const flags = command.options.map((option) => option.long);
  for (const flag of ['--port', '--time-scale', '--seed', '--api-key', '--state', '--faults', '--fault-rate-429']) {
    assert.ok(flags.includes(flag), flag);
  }
});

test('emulator command: serves the SDK, says it is an EMULATOR, stops on SIGINT', async () => {
  const script = `require(${JSON.stringify(path.resolve(__dirname, '../src/cli/commands/emulator.ts'))}).emulatorCommand({ port: 0, apiKey: 'sk-cli' })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let output = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        const match = /url:\s+(http:\/\/\S+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', () => reject(new Error(`emulator exited early:\n${output}`)));
    });
    assert.match(output, /EMULATOR/);
    assert.match(output, /sk-cli/);
    const client = new Anthropic({ apiKey: 'sk-cli', baseURL: url, maxRetries: 0 });
    const batch = await client.messages.batches.create({ requests: [request('cli-1')] });
    assert.equal(batch.processing_status, 'in_progress');
    const exited = once(child, 'close');
    child.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.match(output, /stopped|SIGINT/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
