/**
 * Turns what a Temporal server answers when it is not set up for Sluice, or refuses the connection's credentials,
 * into one line that names the setting and what to do. The server's own text is matched, never printed.
 */
import {
  causeMessages,
  grpcCode,
  GRPC_NOT_FOUND,
  GRPC_PERMISSION_DENIED,
  GRPC_UNAUTHENTICATED,
  namespaceMissing,
  searchAttributesMissing,
  SetupNeededError,
} from './cluster-check';

export interface ExplainedFailure {
  line: string;
  exitCode: 1 | 2;
}

export function explainTemporalFailure(err: unknown, namespace: string): ExplainedFailure | undefined {
  const code = grpcCode(err);
  const text = causeMessages(err);
  const attr = /no mapping defined for search attribute (\w+)|search attribute (\w+) is not defined/i.exec(text);
  if (attr) {
    const e = searchAttributesMissing(namespace, [attr[1] ?? attr[2]!]);
    return { line: e.message, exitCode: e.exitCode };
  }
  // The client SDK raises NamespaceNotFoundError ("Namespace not found: 'x'"); the server says NOT_FOUND.
  if ((code === GRPC_NOT_FOUND && /namespace/i.test(text)) || /namespace not found/i.test(text)) {
    const e = namespaceMissing(namespace);
    return { line: e.message, exitCode: e.exitCode };
  }
  if (code === GRPC_UNAUTHENTICATED || code === GRPC_PERMISSION_DENIED || /unauthenticated|permission denied|invalid api key/i.test(text)) {
    return {
      line:
        'Temporal refused the credentials: check TEMPORAL_API_KEY (or the mTLS client certificate, TEMPORAL_TLS_CLIENT_CERT_PATH) and that it grants access to TEMPORAL_NAMESPACE',
      exitCode: 1,
    };
  }
  return undefined;
}

/** For client helpers: a cluster that is not set up becomes a SetupNeededError (one line); anything else as it was. */
export function setupErrorOr(err: unknown, namespace: string): unknown {
  const explained = explainTemporalFailure(err, namespace);
  if (!explained || /refused the credentials/.test(explained.line)) return err;
  return new SetupNeededError(explained.line, explained.exitCode);
}
