/** The default store: a local directory (or any filesystem all workers mount). */
import { createReadStream, type WriteStream } from 'node:fs';
import { link, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { BlobNotFoundError, type BlobStore } from './blob-store';
import { linkFile, makeDirectory, pathExists, readSmallFile, renameFile, SYNC_IO_BYTES, unlinkFile, writeSmallFile } from './small-files';

let tmpCounter = 0;
/** Blobs hold prompts and results: only their owner may read them (whatever the umask says). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Blobs up to this size are read in one piece by readLines; larger ones are streamed, so memory stays bounded. */
const SMALL_BLOB_BYTES = 4 * 2 ** 20;
/** What readLineRuns reads at a time from a large blob: a run is the lines of one piece. */
const RUN_READ_BYTES = 2 ** 20;
const LINE_BREAK = /\r?\n|\r/;
/** Directories remembered as made: a long-lived worker writes into a few per job, for job after job. */
const KNOWN_DIRS_MAX = 10_000;

export class LocalDirectoryStore implements BlobStore {
  readonly description: string;
  private readonly knownDirs = new Set<string>();

  constructor(private readonly root: string) {
    this.root = path.resolve(root);
    this.description = `directory ${this.root}`;
  }

  pathOf(key: string): string {
    const normalized = path.posix.normalize(key);
    if (normalized.startsWith('..') || path.posix.isAbsolute(normalized)) throw new Error(`Bad store key: ${key}`);
    return path.join(this.root, ...normalized.split('/'));
  }

  async writeLines(key: string, lines: AsyncIterable<string> | Iterable<string>) {
    const target = this.pathOf(key);
    const tmp = this.tmpPathFor(target);
    if (Array.isArray(lines) && lines.length > 0 && textLength(lines) <= SYNC_IO_BYTES) {
      // Lines already in memory (a collect's outcomes, a submit's records): joined and encoded once, not a string
      // and a byte count per line and then a second copy to join them.
      const data = Buffer.from(`${(lines as string[]).join('\n')}\n`);
      await this.writeWholeAtomically(tmp, target, data);
      return { lines: lines.length, bytes: data.length };
    }
    // Held until SYNC_IO_BYTES: most blobs (a sub-batch's outcomes, retries) end before that and are written in one
    // piece; a larger one goes on as a stream, so memory stays bounded.
    let held: string[] = [];
    let heldBytes = 0;
    let out: WriteStream | undefined;
    let count = 0;
    let bytes = 0;
    try {
      for await (const line of lines) {
        const chunk = line + '\n';
        const size = Buffer.byteLength(chunk);
        count++;
        bytes += size;
        if (out) {
          if (!out.write(chunk)) await new Promise<void>((resolve) => out!.once('drain', resolve));
          continue;
        }
        held.push(chunk);
        heldBytes += size;
        if (heldBytes > SYNC_IO_BYTES) {
          out = (await this.openForWrite(tmp, 'w')).createWriteStream();
          out.write(held.join(''));
          held = [];
        }
      }
      if (out) {
        out.end();
        await finished(out);
        await rename(tmp, target);
      } else {
        await this.writeSmall(tmp, Buffer.from(held.join('')), 'w');
        await renameFile(tmp, target);
      }
    } catch (err) {
      out?.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
    return { lines: count, bytes };
  }

  /** A blob held whole written to its temporary file and renamed into place; no temporary file is left on a failure. */
  private async writeWholeAtomically(tmp: string, target: string, data: Buffer) {
    try {
      if (data.length <= SYNC_IO_BYTES) {
        await this.writeSmall(tmp, data, 'w');
        await renameFile(tmp, target);
        return;
      }
      const handle = await this.openForWrite(tmp, 'w');
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await unlinkFile(tmp);
      throw err;
    }
  }

  async *readLines(key: string): AsyncIterable<string> {
    const file = this.pathOf(key);
    // Most blobs are a sub-batch or smaller: one read costs a fraction of a stream and a line reader (npm run bench).
    const small = readSmallFile(file);
    if (small === undefined) throw new BlobNotFoundError(key);
    const whole = small === 'large' ? await this.readIfSmall(key, file) : small.toString('utf8');
    if (whole !== undefined) {
      for (const line of whole.split(/\r?\n|\r/)) if (line.length > 0) yield line;
      return;
    }
    const input = createReadStream(file);
    try {
      await new Promise<void>((resolve, reject) => {
        input.once('open', () => resolve());
        input.once('error', reject);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
    const rl = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of rl) if (line.length > 0) yield line;
    } finally {
      rl.close();
      input.destroy();
    }
  }

  async *readLineRuns(key: string): AsyncIterable<string[]> {
    const file = this.pathOf(key);
    const small = readSmallFile(file);
    if (small === undefined) throw new BlobNotFoundError(key);
    const whole = small === 'large' ? undefined : small.toString('utf8');
    if (whole !== undefined) {
      const lines = whole.split(LINE_BREAK).filter((line) => line.length > 0);
      if (lines.length > 0) yield lines;
      return;
    }
    // Pieces of the file, cut into lines; the text after a piece's last line break waits for the next piece. A CR at
    // a piece's end and the LF that starts the next make an empty line, dropped like every empty one.
    const input = createReadStream(file, { highWaterMark: RUN_READ_BYTES });
    const decoder = new StringDecoder('utf8');
    let pending: string[] = []; // the text after the last line break so far, in pieces (a long line is joined once)
    try {
      for await (const piece of input as AsyncIterable<Buffer>) {
        const text = decoder.write(piece);
        const lines = text.split(LINE_BREAK);
        if (lines.length === 1) {
          pending.push(text);
          continue;
        }
        pending.push(lines[0]!);
        lines[0] = pending.join('');
        pending = [lines.pop()!];
        const run = lines.filter((line) => line.length > 0);
        if (run.length > 0) yield run;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    } finally {
      input.destroy();
    }
    const last = pending.join('') + decoder.end();
    if (last.length > 0) yield [last];
  }

  async readAllLines(key: string): Promise<string[]> {
    const small = readSmallFile(this.pathOf(key));
    if (small === undefined) throw new BlobNotFoundError(key);
    if (small !== 'large') return small.toString('utf8').split(/\r?\n|\r/).filter((line) => line.length > 0);
    const lines: string[] = [];
    for await (const line of this.readLines(key)) lines.push(line);
    return lines;
  }

  /** The whole text of a blob up to SMALL_BLOB_BYTES, else undefined (read it as a stream). */
  private async readIfSmall(key: string, file: string): Promise<string | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
    try {
      if ((await handle.stat()).size > SMALL_BLOB_BYTES) return undefined;
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  }

  async writeJson(key: string, value: unknown) {
    const target = this.pathOf(key);
    const tmp = this.tmpPathFor(target);
    await this.writeWholeAtomically(tmp, target, Buffer.from(JSON.stringify(value, null, 2) + '\n'));
  }

  async readJson<T>(key: string): Promise<T | undefined> {
    const file = this.pathOf(key);
    const small = readSmallFile(file);
    if (small === undefined) return undefined;
    if (small !== 'large') return JSON.parse(small.toString('utf8')) as T;
    try {
      return JSON.parse(await readFile(file, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async createJsonExclusive(key: string, value: unknown): Promise<boolean> {
    // Written whole to a temporary file, then linked into place (a link fails if the target exists): a process killed
    // midway leaves no empty blob under the key, which every later create would refuse and every read fail on
    // (chaos seed 19: a submission's call claim, empty after a SIGKILL, stopped its job).
    const target = this.pathOf(key);
    const data = Buffer.from(JSON.stringify(value) + '\n');
    const tmp = this.tmpPathFor(target);
    if (data.length <= SYNC_IO_BYTES) {
      await this.writeSmall(tmp, data, 'wx');
      try {
        await linkFile(tmp, target);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      } finally {
        await unlinkFile(tmp);
      }
    }
    const handle = await this.openForWrite(tmp, 'wx');
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async exists(key: string) {
    return Promise.resolve(pathExists(this.pathOf(key)));
  }

  async list(prefix: string): Promise<string[]> {
    const dir = this.pathOf(prefix);
    const out: string[] = [];
    const walk = async (abs: string, rel: string) => {
      let entries;
      try {
        entries = await readdir(abs, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith('.tmp-')) continue;
        if (e.isDirectory()) await walk(path.join(abs, e.name), `${rel}${e.name}/`);
        else out.push(`${rel}${e.name}`);
      }
    };
    await walk(dir, prefix.endsWith('/') ? prefix : `${prefix}/`);
    return out.sort();
  }

  async delete(key: string) {
    await rm(this.pathOf(key), { force: true, recursive: true });
    this.knownDirs.clear();
  }

  /**
   * Opens a file for writing in a directory made private to its user (with its missing parents and the root) the
   * first time this store writes there: a job writes thousands of blobs into a few directories, and a mkdir for each
   * was a tenth of a worker's CPU (`npm run bench`). A directory removed behind this store's back is made again.
   */
  private async openForWrite(file: string, flags: 'w' | 'wx'): Promise<FileHandle> {
    const dir = path.dirname(file);
    if (!this.knownDirs.has(dir)) await this.makeDir(dir);
    try {
      return await open(file, flags, FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.makeDir(dir);
      return open(file, flags, FILE_MODE);
    }
  }

  /** A small blob written whole in one call (openForWrite's twin), its directory made as needed. */
  private async writeSmall(file: string, data: Buffer, flags: 'w' | 'wx') {
    const dir = path.dirname(file);
    if (!this.knownDirs.has(dir)) await this.makeDir(dir);
    try {
      await writeSmallFile(file, data, flags, FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.makeDir(dir);
      await writeSmallFile(file, data, flags, FILE_MODE);
    }
  }

  private async makeDir(dir: string) {
    // One call: a recursive mkdir makes every missing parent (the root too) with the same private mode.
    await makeDirectory(dir, DIR_MODE);
    // Bounded: forgetting costs one mkdir per directory on its next write, and memory stays flat over many jobs.
    if (this.knownDirs.size >= KNOWN_DIRS_MAX) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }

  private tmpPathFor(target: string) {
    return path.join(path.dirname(target), `.tmp-${process.pid}-${++tmpCounter}-${path.basename(target)}`);
  }
}

/** The lines' UTF-16 length with their newlines: never more than their UTF-8 size (a blob of this many characters
 * may encode to up to three times as many bytes, and is then written as a larger blob). */
function textLength(lines: readonly string[]): number {
  let n = lines.length;
  for (const line of lines) n += line.length;
  return n;
}
