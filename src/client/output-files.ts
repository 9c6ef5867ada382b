/**
 * Writing a job's output files where the user asked, without ever destroying something else: the directory is
 * checked before a job starts (so a bad --out costs nothing), the job id must look like one (no `/` or `..` to
 * write outside out/), nothing is touched until the job's output exists, and each file is written to a fresh
 * temporary file (created exclusively, so a planted link is never followed) and renamed over the target (which
 * replaces a link rather than writing through it).
 */
import { randomBytes } from 'node:crypto';
import { access, constants, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { jobKeys } from '../domain/job';
import type { BlobStore } from '../store/blob-store';
import { UsageError } from '../domain/errors';

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
export const OUTPUT_FILES = ['results.jsonl', 'failures.jsonl', 'summary.json'] as const;

/** Throws a UsageError unless `id` could be a job's workflow id (what `sluice run` prints). */
export function checkJobId(id: string, what = 'job'): void {
  if (!JOB_ID.test(id)) {
    throw new UsageError(
      `${what} "${id}" is not a job id: ids are letters, digits, '.', '_' and '-' (like sluice-job-prompts-20261201-090000)`,
    );
  }
}

/** The output directory of a job: --out, else out/<job id>. */
export function outDirFor(jobId: string, out: string | undefined): string {
  return path.resolve(out ?? path.join('out', jobId));
}

/**
 * Makes sure `dir` is (or can be made) a writable directory, creating it; `flag` names the option in errors.
 * Run it before a job starts: a file in the way or an impossible path must not surface after the batch is paid.
 */
export async function prepareOutDir(dir: string, flag = '--out'): Promise<void> {
  const existing = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    if (err.code === 'ENOTDIR') throw new UsageError(`${flag} ${dir}: a part of the path is a file, not a directory`);
    if (err.code === 'EACCES') throw new UsageError(`${flag} ${dir}: permission denied`);
    if (err.code === 'ELOOP') throw new UsageError(`${flag} ${dir}: too many symbolic links (a link loop?)`);
    throw err;
  });
  if (existing && !existing.isDirectory()) throw new UsageError(`${flag} ${dir}: exists and is not a directory`);
  if (!existing) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOTDIR' || code === 'EEXIST'
          ? 'a part of the path is a file, not a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'EROFS'
              ? 'read-only file system'
              : (code ?? 'cannot be created');
      throw new UsageError(`${flag} ${dir}: cannot create the directory: ${why}`);
    }
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new UsageError(`${flag} ${dir}: the directory is not writable`);
  }
}

/** Writes `lines` (or `text`) to dir/name through a temporary file and a rename. */
async function writeAtomically(dir: string, name: string, body: AsyncIterable<string> | string): Promise<string> {
  const target = path.join(dir, name);
  // The target may be a planted link or a directory: a rename would replace the link, but refuse a directory.
  const there = await lstat(target).catch(() => undefined);
  if (there?.isDirectory()) throw new UsageError(`${target}: is a directory; move it away first`);
  const tmp = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    if (typeof body === 'string') await handle.writeFile(body);
    else for await (const line of body) await handle.write(line + '\n');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, target);
  return target;
}

/**
 * Copies a finished job's output from the store into `outDir`. Fails before touching the directory when the job
 * has no output (unknown, or not finished yet).
 */
export async function writeJobOutput(store: BlobStore, jobId: string, outDir: string): Promise<string[]> {
  checkJobId(jobId);
  const summary = await store.readJson(jobKeys.output(jobId, 'summary.json'));
  if (summary === undefined) {
    throw new UsageError(
      `${jobId} has no results: no such job, or it has not finished (see \`sluice status ${jobId}\`). Nothing was written.`,
    );
  }
  await prepareOutDir(outDir);
  const written: string[] = [];
  for (const file of ['results.jsonl', 'failures.jsonl'] as const) {
    written.push(await writeAtomically(outDir, file, store.readLines(jobKeys.output(jobId, file))));
  }
  // Answers that failed the output check (docs/spending.md): written by jobs that check their answers.
  const invalidKey = jobKeys.output(jobId, 'invalid-output.jsonl');
  if (await store.exists(invalidKey)) written.push(await writeAtomically(outDir, 'invalid-output.jsonl', store.readLines(invalidKey)));
  written.push(await writeAtomically(outDir, 'summary.json', JSON.stringify(summary, null, 2) + '\n'));
  // The job report (docs/report.md), written by finalize; absent for jobs finished before it existed.
  const reportKey = jobKeys.output(jobId, 'report.html');
  if (await store.exists(reportKey)) written.push(await writeAtomically(outDir, 'report.html', store.readLines(reportKey)));
  return written;
}
