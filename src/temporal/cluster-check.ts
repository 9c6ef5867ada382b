/**
 * What a Temporal cluster must have before Sluice can run on it (its namespace and Sluice's search attributes),
 * checked through the operator and workflow services, and the one-line errors that say what is missing and
 * name `sluice setup`. Shared by `sluice setup`, the worker's start and the CLI's error mapping.
 */
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SluiceError } from '../domain/errors';
import { sluiceSearchAttributes } from '../workflows/search-attributes';

type WorkflowService = temporal.api.workflowservice.v1.WorkflowService;
type OperatorService = temporal.api.operatorservice.v1.OperatorService;
const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** Client Connection and worker NativeConnection both have these. */
export interface TemporalServices {
  workflowService: WorkflowService;
  operatorService: OperatorService;
}

/** The cluster lacks something `sluice setup` makes (or, on Temporal Cloud, says how to make). */
export class SetupNeededError extends SluiceError {
  override name = 'SetupNeededError';
  /** 2: a setting names nothing (TEMPORAL_NAMESPACE); 1: the cluster is not set up. */
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function namespaceMissing(namespace: string): SetupNeededError {
  return new SetupNeededError(
    `TEMPORAL_NAMESPACE: namespace "${namespace}" does not exist on this cluster: create it (temporal operator namespace create ${namespace}) or fix the setting, then run \`sluice setup\``,
    2,
  );
}

export function searchAttributesMissing(namespace: string, names: string[]): SetupNeededError {
  return new SetupNeededError(
    `Namespace "${namespace}" lacks Sluice's search attribute${names.length > 1 ? 's' : ''} ${names.join(', ')}: run \`sluice setup\` once against this cluster`,
    1,
  );
}

/** Sluice's search attributes as the operator service names their types. */
export function wantedSearchAttributes(): { name: string; type: temporal.api.enums.v1.IndexedValueType; typeName: string }[] {
  const byType: Record<string, [temporal.api.enums.v1.IndexedValueType, string]> = {
    [SearchAttributeType.KEYWORD]: [IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, 'Keyword'],
    [SearchAttributeType.INT]: [IndexedValueType.INDEXED_VALUE_TYPE_INT, 'Int'],
    [SearchAttributeType.DATETIME]: [IndexedValueType.INDEXED_VALUE_TYPE_DATETIME, 'Datetime'],
    [SearchAttributeType.BOOL]: [IndexedValueType.INDEXED_VALUE_TYPE_BOOL, 'Bool'],
  };
  return sluiceSearchAttributes.map((key) => {
    const [type, typeName] = byType[key.type]!;
    return { name: key.name, type, typeName };
  });
}

/** The namespace's retention in ms; a SetupNeededError when it does not exist. */
export async function describeNamespaceRetention(services: TemporalServices, namespace: string): Promise<number | undefined> {
  try {
    const res = await services.workflowService.describeNamespace({ namespace });
    const ttl = res.config?.workflowExecutionRetentionTtl;
    return ttl ? Number(ttl.seconds ?? 0) * 1_000 + Math.round((ttl.nanos ?? 0) / 1e6) : undefined;
  } catch (err) {
    if (grpcCode(err) === GRPC_NOT_FOUND) throw namespaceMissing(namespace);
    throw err;
  }
}

/** Names of Sluice's search attributes the namespace does not have. */
export async function missingSearchAttributes(services: TemporalServices, namespace: string): Promise<string[]> {
  const res = await services.operatorService.listSearchAttributes({ namespace });
  const have = new Set([...Object.keys(res.customAttributes ?? {}), ...Object.keys(res.systemAttributes ?? {})]);
  return wantedSearchAttributes()
    .map((a) => a.name)
    .filter((name) => !have.has(name));
}

/** The worker's check at start: the namespace exists and has Sluice's search attributes. */
export async function assertClusterReady(services: TemporalServices, namespace: string): Promise<void> {
  await describeNamespaceRetention(services, namespace);
  let missing: string[];
  try {
    missing = await missingSearchAttributes(services, namespace);
  } catch (err) {
    // Temporal Cloud may refuse the operator service to a namespace key; the start of a job still says what is missing.
    if (grpcCode(err) === GRPC_PERMISSION_DENIED || grpcCode(err) === GRPC_UNIMPLEMENTED) return;
    throw err;
  }
  if (missing.length > 0) throw searchAttributesMissing(namespace, missing);
}

export const GRPC_INVALID_ARGUMENT = 3;
export const GRPC_NOT_FOUND = 5;
export const GRPC_PERMISSION_DENIED = 7;
export const GRPC_UNIMPLEMENTED = 12;
export const GRPC_UNAVAILABLE = 14;
export const GRPC_UNAUTHENTICATED = 16;

/** The gRPC status code of an error or of any error in its cause chain. */
export function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** The messages of an error and its causes, for matching (never printed as such: they may quote a server). */
export function causeMessages(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') parts.push(message);
  }
  return parts.join(' | ');
}
