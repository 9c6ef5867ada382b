/**
 * Activities for jobs started from a user's own workflow (src/workflows/child-job.ts): `stageRequests` reads a
 * JSONL file or URL where the worker runs, validates it like `sluice run` and stores the normalized requests, so
 * only the store key and counts enter the user's history; `sluiceJobProgress` answers the job's progress query,
 * since a workflow cannot query another workflow itself.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { prepareInput } from '../client/prepare-input';
import { ConfigError, InputError } from '../domain/errors';
import { StageFailureType, type StageInput, type StagedInput, type StageSource } from '../contracts/activities';
import { progressQuery, type JobProgress } from '../contracts/messages';
import type { ActivityDeps } from './deps';

export { StageFailureType, type StageInput, type StagedInput, type StageSource };

export function stageActivities({ store }: ActivityDeps) {
  return {
    async stageRequests(input: StageInput): Promise<StagedInput> {
      const where = 'url' in input.source ? input.source.url : input.source.file;
      const download = 'url' in input.source ? await downloadToTemp(input.source.url) : undefined;
      try {
        const prepared = await prepareInput({
          file: download?.file ?? where,
          jobId: input.jobId,
          store,
          defaults: input.defaults,
          skipInvalid: input.skipInvalid,
        });
        return { ...prepared, source: where };
      } catch (err) {
        // Bad lines do not get better on a retry: name them (by the user's file or URL, never a temporary path).
        if (err instanceof InputError) {
          const named = new InputError(err.issues, { file: where });
          throw ApplicationFailure.create({ message: named.message, type: StageFailureType.BadInput, nonRetryable: true });
        }
        if (isMissingFile(err)) {
          throw ApplicationFailure.nonRetryable(`${where}: no such file on the worker`, StageFailureType.SourceUnreadable);
        }
        throw err;
      } finally {
        if (download) await rm(download.dir, { recursive: true, force: true });
      }
    },

    async sluiceJobProgress(input: { jobId: string }): Promise<JobProgress> {
      return Context.current().client.workflow.getHandle(input.jobId).query(progressQuery);
    },
  };
}

/** Streams the URL's body to a temporary file; a 4xx answer is final, anything else is retried by Temporal. */
async function downloadToTemp(url: string): Promise<{ dir: string; file: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ApplicationFailure.nonRetryable(new ConfigError('source.url', `is not a URL: ${url}`).message, StageFailureType.SourceUnreadable);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw ApplicationFailure.nonRetryable(`source.url: only http and https are read, not ${parsed.protocol}`, StageFailureType.SourceUnreadable);
  }
  const response = await fetch(parsed, { signal: Context.current().cancellationSignal });
  if (!response.ok || !response.body) {
    const message = `${parsed.origin}${parsed.pathname}: HTTP ${response.status} ${response.statusText}`;
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw ApplicationFailure.nonRetryable(message, StageFailureType.SourceUnreadable);
    }
    throw ApplicationFailure.retryable(message, StageFailureType.SourceUnreadable);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-stage-'));
  const file = path.join(dir, 'input.jsonl');
  let bytes = 0;
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    heartbeat({ bytes });
  });
  try {
    await pipeline(body, createWriteStream(file));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, file };
}

function isMissingFile(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'EISDIR');
}
