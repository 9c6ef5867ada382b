/** The one place where errors become messages and exit codes. Keys and prompt text are never printed. */
import { WorkflowFailedError } from '@temporalio/client';
import { ConfigError, InputError, SluiceError, UsageError } from '../domain/errors';
import { NoWorkerAnsweredError } from '../client/query-patience';
import { SetupNeededError } from '../temporal/cluster-check';
import { explainTemporalFailure } from '../temporal/failures';
import { StoppedFollowingError } from './follow-job';
import { forTerminal } from './terminal-text';

export const ExitCode = { ok: 0, failure: 1, badInput: 2, interrupted: 130 } as const;

export { UsageError };

/** The Temporal frontend did not answer at `address`. */
export class CannotReachTemporalError extends SluiceError {
  override name = 'CannotReachTemporalError';
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(`Cannot reach Temporal at ${address}`, { cause });
  }
}

/** Errno codes of a file the user named, in words. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links (a link loop?)',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
};

/** "input.jsonl: no such file or directory" for an errno error on a path, or undefined. */
export function describeFileError(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e.code !== 'string' || typeof e.path !== 'string') return undefined;
  const words = FILE_ERRORS[e.code];
  return words === undefined ? undefined : `${e.path}: ${words}`;
}

/** console.error, with control and invisible characters escaped. */
function say(text: string): void {
  console.error(forTerminal(text));
}

/** `namespace`: the one the command used, for messages about it (default: TEMPORAL_NAMESPACE or "default"). */
export function reportError(err: unknown, namespace = process.env.TEMPORAL_NAMESPACE || 'default'): number {
  if (err instanceof InputError) {
    say(`${err.message}\nNothing was sent.`);
    return ExitCode.badInput;
  }
  if (err instanceof ConfigError || err instanceof UsageError) {
    say(`Error: ${err.message}`);
    return ExitCode.badInput;
  }
  const file = describeFileError(err);
  if (file !== undefined) {
    say(`Error: ${file}\nNothing was sent.`);
    return ExitCode.badInput;
  }
  if (err instanceof NoWorkerAnsweredError) {
    say(`Error: ${err.message}`);
    return ExitCode.failure;
  }
  if (err instanceof StoppedFollowingError) {
    say(err.message);
    return err.interrupted ? ExitCode.interrupted : ExitCode.failure;
  }
  if (err instanceof SetupNeededError) {
    say(`Error: ${err.message}`);
    return err.exitCode;
  }
  const explained = explainTemporalFailure(err, namespace);
  if (explained) {
    say(`Error: ${explained.line}`);
    return explained.exitCode;
  }
  if (err instanceof WorkflowFailedError) {
    say(`The job failed: ${rootMessage(err)}`);
    return ExitCode.failure;
  }
  const code = (err as { code?: unknown }).code;
  // grpc-js (the client) says UNAVAILABLE / Failed to connect; the worker's Rust core says tonic::transport.
  const unreachable = /ECONNREFUSED|UNAVAILABLE|Failed to connect|tonic::transport|tcp connect error/i.test(String((err as Error)?.message));
  if (err instanceof CannotReachTemporalError || code === 14 || unreachable) {
    const where =
      err instanceof CannotReachTemporalError
        ? err.message
        : `Cannot reach Temporal at ${process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233'}`;
    const root = rootMessage(err as Error);
    // A refused TLS handshake surfaces as a plain connect timeout: with TLS configured, point at its settings.
    const tls =
      /tls|ssl|handshake|certificate/i.test(root) ||
      Object.keys(process.env).some((k) => (k.startsWith('TEMPORAL_TLS') || k === 'TEMPORAL_API_KEY' || k === 'TEMPORAL_PROFILE') && process.env[k]);
    say(
      `${where} (${root}).\n` +
        (tls
          ? 'Check TEMPORAL_ADDRESS and that the server accepts this TLS setup: TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME, the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH) or TEMPORAL_API_KEY.'
          : "Start the embedded stack with `sluice dev`, or set TEMPORAL_ADDRESS to the server's host:port (and TEMPORAL_TLS or TEMPORAL_API_KEY if the server requires TLS)."),
    );
    return ExitCode.failure;
  }
  say(err instanceof Error ? `Error: ${err.message}` : `Error: ${String(err)}`);
  return ExitCode.failure;
}

function rootMessage(err: Error): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
