/**
 * Small blobs (a submission record, a call claim, a sub-batch's shard or outcomes) read and written whole, with as
 * little machinery as the kernel work allows. A submit or a collect touches about ten blobs of a few kilobytes; through
 * fs.promises each open, write, close, link and rename was a promise, a FileHandle and a thread-pool round trip, and
 * that machinery cost more than the kernel's own work (`npm run bench:activities`).
 * - Reads are synchronous: a small file is copied from the page cache in microseconds, and a missing one is told by a
 *   stat that throws nothing (an exception's stack, source-mapped, costs more than the read).
 * - What changes a directory stays asynchronous, through the callback API (no FileHandle, no promise per call):
 *   creating a file or a directory, a rename or a link waits for the filesystem's journal, which on a busy disk took
 *   milliseconds per call, and a synchronous call would hold the worker's only activity thread that long (measured
 *   twice with every write synchronous: open and mkdir blocked 6 ms per submit under load, and a later round saw the
 *   wall time per activity rise by half with no CPU saved). The bytes are written and the file closed synchronously
 *   once it is open: a copy into the page cache, which saved two round trips per write (docs/performance.md).
 * Nothing is fsynced, as before: a blob must survive its process, not the machine.
 */
import * as fs from 'node:fs';

/** At most this many bytes are read synchronously or written in one call; larger blobs use streams. */
export const SYNC_IO_BYTES = 256 * 2 ** 10;

function done(resolve: () => void, reject: (err: Error) => void) {
  return (err: NodeJS.ErrnoException | null) => (err ? reject(err) : resolve());
}

/**
 * Writes a new file (flags 'w' or 'wx'), whole: the open on the thread pool (it creates an inode and may wait for the
 * journal), the write and the close on this thread (a copy into the page cache, microseconds). Two thread-pool round
 * trips fewer than fs.writeFile's open, write and close.
 */
export function writeSmallFile(file: string, data: Buffer, flags: 'w' | 'wx', mode: number): Promise<void> {
  return new Promise((resolve, reject) =>
    fs.open(file, flags, mode, (err, fd) => {
      if (err) return reject(err);
      try {
        writeAndClose(fd, data);
        resolve();
      } catch (writeErr) {
        reject(writeErr instanceof Error ? writeErr : new Error(String(writeErr)));
      }
    }),
  );
}

function writeAndClose(fd: number, data: Buffer) {
  try {
    for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at, data.length - at);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a directory and its missing parents, through the callback API (no promise machinery of fs.promises). */
export function makeDirectory(dir: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => fs.mkdir(dir, { recursive: true, mode }, done(resolve, reject)));
}

export function renameFile(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => fs.rename(from, to, done(resolve, reject)));
}

export function linkFile(existing: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => fs.link(existing, target, done(resolve, reject)));
}

/** Removes a file; one that is already gone is fine. */
export function unlinkFile(file: string): Promise<void> {
  return new Promise((resolve, reject) =>
    fs.unlink(file, (err) => (err && err.code !== 'ENOENT' ? reject(err) : resolve())),
  );
}

/** A file's whole content when it is at most SYNC_IO_BYTES, 'large' when larger, undefined when it does not exist. */
export function readSmallFile(file: string): Buffer | 'large' | undefined {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  if (stat.size > SYNC_IO_BYTES) return 'large';
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed since the stat
    throw err;
  }
  try {
    const size = stat.size;
    // One byte more than the size: a file that grew since the stat is read whole or not at all.
    const buffer = Buffer.allocUnsafe(size + 1);
    let read = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, read, buffer.length - read, null);
      if (n === 0) return buffer.subarray(0, read);
      read += n;
      if (read === buffer.length) return 'large';
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether a file (or directory) exists, without an exception for the common answer. */
export function pathExists(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false; // as before: a path that cannot be looked at is not there
  }
}
