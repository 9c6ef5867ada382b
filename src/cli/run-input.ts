/**
 * Checks of `sluice run`'s own flags that the job options schema cannot make (it sees milliseconds, not what was
 * typed), and standard input as a file: `-` is copied to a private temporary file first, because the input is read
 * twice (validation, then upload) and a pipe can be read once.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatDuration } from '../domain/duration';
import { describeFileError, UsageError } from './errors';

/** An SLA farther than this is a typo (Temporal and Date both have limits; no batch job needs a year). */
export const MAX_SLA_MS = 366 * 24 * 3_600_000;
/** Job names go into the workflow id, a search attribute and the Web UI. */
export const MAX_NAME_LENGTH = 200;

export function checkDeadline(deadlineMs: number, nowMs: number, flag: string, typed: string): void {
  if (deadlineMs - nowMs > MAX_SLA_MS) {
    throw new UsageError(`${flag} ${typed}: is more than 366 days away; the longest SLA is 366d`);
  }
}

export function checkName(name: string): void {
  if (name.trim() === '') throw new UsageError('--name: must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw new UsageError(`--name: must be at most ${MAX_NAME_LENGTH} characters (got ${name.length})`);
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001F\u007F-\u009F]/.test(name)) throw new UsageError('--name: must not contain control characters');
}

/**
 * A warning when the SLA leaves no time for a batch (deadline − now < window + margin): everything would go
 * synchronously at full price, or be reported sla_missed without fallback.
 */
export function slaWarning(p: { deadlineMs?: number; windowMs: number; marginMs: number; syncFallback: boolean; mode: string }, nowMs: number): string | undefined {
  if (p.deadlineMs === undefined || p.mode === 'sync') return undefined;
  const left = p.deadlineMs - nowMs;
  if (left >= p.windowMs + p.marginMs) return undefined;
  const then = p.syncFallback
    ? 'every request goes to the synchronous API, at twice the batch price'
    : 'every request is reported sla_missed (--no-sync-fallback)';
  return `Warning: the deadline is ${formatDuration(Math.max(0, left))} away, less than the batch window and margin (${formatDuration(p.windowMs)} + ${formatDuration(p.marginMs)}): no batch can be trusted to finish in time, so ${then}. Give --sla of at least ${formatDuration(p.windowMs + p.marginMs)}, or a shorter --window if your batches end sooner.`;
}

/** For `-`: standard input in a private temporary file; `cleanup` removes it. */
export async function stdinAsFile(input: NodeJS.ReadableStream = process.stdin): Promise<{ file: string; cleanup: () => Promise<void> }> {
  if ((input as { isTTY?: boolean }).isTTY) throw new UsageError('input "-" reads standard input, which is a terminal: pipe or redirect a file into it');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-stdin-'));
  const file = path.join(dir, 'stdin.jsonl');
  await pipeline(input, createWriteStream(file, { mode: 0o600 }));
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Opens the input once before anything connects: a missing, unreadable or looping file, or a directory, is said in words. */
export async function checkInputFile(file: string): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) throw new UsageError(`${file}: is a directory, not a JSONL file`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // EISDIR on some systems comes from open itself.
    throw new UsageError(describeFileError(err) ?? `${file}: cannot be read`, { cause: err });
  } finally {
    await handle?.close();
  }
}
