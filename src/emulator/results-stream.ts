/**
 * Streams a results file: lines are generated lazily in a seeded shuffled order and written in chunks with
 * backpressure, so a 100,000-line file never sits in memory (only its 4-byte-per-line order does).
 */
import type { ServerResponse } from 'node:http';
import type { StoredBatch } from './batch-state';
import { resultLine } from './batch-state';
import { deriveSeed, mulberry32, permutation } from './prng';

const CHUNK_CHARS = 64 * 1024;

/** Cut the download after this many whole lines: half of the next and a reset after a pause, or a proper end. */
export interface ResultsCut {
  afterLines: number;
  pauseMs: number;
  ending: 'reset' | 'clean';
}

export interface ResultsStreamOptions {
  /** null: the whole file. */
  cut: ResultsCut | null;
}

/** Resolves when the response can take more data, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function written(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => res.write(chunk, () => resolve()));
}

/** The seeded line order of a batch's results. */
export function resultsOrder(batch: StoredBatch): Uint32Array {
  return permutation(batch.requests.length, mulberry32(deriveSeed(batch.seed, 'results-order')));
}

export async function streamResults(
  res: ServerResponse,
  batch: StoredBatch,
  options: ResultsStreamOptions,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-jsonl' });
  const order = resultsOrder(batch);
  let chunk = '';
  for (let i = 0; i < order.length; i++) {
    if (res.destroyed) return; // the client went away
    const line = JSON.stringify(resultLine(batch, batch.requests[order[i]!]!));
    if (options.cut?.afterLines === i) {
      if (options.cut.ending === 'clean') return void res.end(chunk);
      if (options.cut.pauseMs > 0) {
        await written(res, chunk);
        chunk = '';
        await new Promise((resolve) => setTimeout(resolve, options.cut!.pauseMs));
      }
      await written(res, chunk + line.slice(0, Math.floor(line.length / 2)));
      res.destroy();
      return;
    }
    chunk += `${line}\n`;
    if (chunk.length >= CHUNK_CHARS) {
      const ok = res.write(chunk);
      chunk = '';
      if (!ok) await drained(res);
    }
  }
  res.end(chunk);
}
