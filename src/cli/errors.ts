/** The one place where errors become messages and exit codes. Keys and prompt text are never printed. */
import { WorkflowFailedError } from '@temporalio/client';
import { ConfigError, InputError, SluiceError } from '../domain/errors';
import { SetupNeededError } from '../temporal/cluster-check';
import { explainTemporalFailure } from '../temporal/failures';

export const ExitCode = { ok: 0, failure: 1, badInput: 2, interrupted: 130 } as const;

export class UsageError extends SluiceError {
  override name = 'UsageError';
}

/** `namespace`: the one the command used, for messages about it (default: TEMPORAL_NAMESPACE or "default"). */
export function reportError(err: unknown, namespace = process.env.TEMPORAL_NAMESPACE || 'default'): number {
  if (err instanceof InputError) {
    console.error(`${err.message}\nNothing was sent.`);
    return ExitCode.badInput;
  }
  if (err instanceof ConfigError || err instanceof UsageError) {
    console.error(`Error: ${err.message}`);
    return ExitCode.badInput;
  }
  if (err instanceof SetupNeededError) {
    console.error(`Error: ${err.message}`);
    return err.exitCode;
  }
  const explained = explainTemporalFailure(err, namespace);
  if (explained) {
    console.error(`Error: ${explained.line}`);
    return explained.exitCode;
  }
  if (err instanceof WorkflowFailedError) {
    console.error(`The job failed: ${rootMessage(err)}`);
    return ExitCode.failure;
  }
  const code = (err as { code?: unknown }).code;
  // grpc-js (the client) says UNAVAILABLE / Failed to connect; the worker's Rust core says tonic::transport.
  if (code === 14 || /ECONNREFUSED|UNAVAILABLE|Failed to connect|tonic::transport|tcp connect error/i.test(String((err as Error)?.message))) {
    // A refused TLS handshake surfaces as a plain connect timeout: with TLS configured, point at its settings.
    const tls =
      /tls|ssl|handshake|certificate/i.test(String((err as Error)?.message)) ||
      Object.keys(process.env).some((k) => (k.startsWith('TEMPORAL_TLS') || k === 'TEMPORAL_API_KEY' || k === 'TEMPORAL_PROFILE') && process.env[k]);
    console.error(
      `Cannot reach Temporal (${String((err as Error).message)}).\n` +
        (tls
          ? 'Check TEMPORAL_ADDRESS and that the server accepts this TLS setup: TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME, the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH) or TEMPORAL_API_KEY.'
          : 'Start the embedded stack with `sluice dev`, or set TEMPORAL_ADDRESS (and TEMPORAL_TLS or TEMPORAL_API_KEY if the server requires TLS).'),
    );
    return ExitCode.failure;
  }
  console.error(err instanceof Error ? `Error: ${err.message}` : `Error: ${String(err)}`);
  return ExitCode.failure;
}

function rootMessage(err: Error): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
