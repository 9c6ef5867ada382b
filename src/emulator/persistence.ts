/**
 * Optional state file, so the emulator survives its own restart: batches (with their planned fates), the
 * batch counter, the stats, and where the nominal clock stood. Saves are debounced and atomic (write a
 * temporary file, then rename). On load the clock resumes from where it was saved plus the real time that
 * passed meanwhile, as the real service keeps working while a client is down.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { StoredBatch } from './batch-state';
import type { EmulatorStats } from './stats';
import type { ClockOrigin } from './time';

export const STATE_VERSION = 1;

export interface PersistedState {
  version: typeof STATE_VERSION;
  /** The clock when saved: real ms and nominal ms at that instant. */
  clock: ClockOrigin;
  seq: number;
  /** Oldest first. */
  batches: StoredBatch[];
  stats: EmulatorStats;
}

/** Reads a state file; null when it does not exist. Throws on a corrupt or foreign file. */
export async function loadState(path: string): Promise<PersistedState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const state = JSON.parse(text) as PersistedState;
  if (state.version !== STATE_VERSION || !Array.isArray(state.batches)) {
    throw new Error(`Emulator state file ${path} is not a version ${STATE_VERSION} state file`);
  }
  return state;
}

export class StateSaver {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private lastError: Error | null = null;

  constructor(
    private readonly path: string,
    private readonly debounceMs: number,
    private readonly snapshot: () => PersistedState,
  ) {}

  /** Saves soon (debounced). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writing = this.writing.then(() => this.write());
    }, this.debounceMs);
  }

  /** Saves now and waits for every pending write; rethrows the last write error, if any. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(() => this.write());
    await this.writing;
    if (this.lastError) throw this.lastError;
  }

  private async write(): Promise<void> {
    try {
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(this.snapshot()));
      await rename(temporary, this.path);
      this.lastError = null;
    } catch (err) {
      this.lastError = err instanceof Error ? err : new Error(String(err));
    }
  }
}
