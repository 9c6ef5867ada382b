/**
 * Where request bodies and results live, outside workflow history (claim check). Keys are slash-separated
 * paths such as `jobs/<jobId>/shards/s000001.jsonl`. Every write is atomic: a reader sees the old blob or the
 * new one, never half of one, so an activity that runs twice overwrites its own output with the same bytes.
 */
export interface BlobStore {
  /** Human-readable location, for messages. */
  readonly description: string;
  /** Writes the lines (each without its '\n') as one blob, atomically. Returns lines and bytes written. */
  writeLines(key: string, lines: AsyncIterable<string> | Iterable<string>): Promise<{ lines: number; bytes: number }>;
  /** Streams a blob's lines (without '\n'); throws BlobNotFoundError for a missing key. */
  readLines(key: string): AsyncIterable<string>;
  /**
   * Optional: a blob's lines in one array (the blob is held whole anyway, such as a shard), where the store can give
   * them without an await per line. Callers use allLines(), which falls back to readLines.
   */
  readAllLines?(key: string): Promise<string[]>;
  /**
   * Optional: a blob's lines in runs (the lines of each piece read), in order, for blobs of any size read line by line
   * (a job's input): an await per run, not per line. Callers use lineRuns(), which falls back to readLines.
   */
  readLineRuns?(key: string): AsyncIterable<string[]>;
  writeJson(key: string, value: unknown): Promise<void>;
  /** undefined when the key does not exist. */
  readJson<T>(key: string): Promise<T | undefined>;
  /**
   * Creates the blob only if it does not exist yet; returns false when it did. Used to claim a batch id for
   * exactly one submission.
   */
  createJsonExclusive(key: string, value: unknown): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  /** Keys directly or indirectly under a prefix ending in '/', sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

/** A blob's lines in one array: for blobs a caller holds whole anyway (a shard), never for ones of unbounded size. */
export async function allLines(store: BlobStore, key: string): Promise<string[]> {
  if (store.readAllLines) return store.readAllLines(key);
  const lines: string[] = [];
  for await (const line of store.readLines(key)) lines.push(line);
  return lines;
}

/** Lines taken together when a store has no readLineRuns. */
const FALLBACK_RUN_LINES = 1_000;

/** A blob's lines in runs of a few (memory bounded by a run, not the blob), whatever the store. */
export async function* lineRuns(store: BlobStore, key: string): AsyncIterable<string[]> {
  if (store.readLineRuns) {
    yield* store.readLineRuns(key);
    return;
  }
  let run: string[] = [];
  for await (const line of store.readLines(key)) {
    run.push(line);
    if (run.length >= FALLBACK_RUN_LINES) {
      yield run;
      run = [];
    }
  }
  if (run.length > 0) yield run;
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError';
  constructor(readonly key: string) {
    super(`Nothing is stored at ${key}`);
  }
}
