/**
 * Transport faults: decides, per call, whether to reset the connection, delay, or answer an HTTP error
 * instead of the real response. Each (fault, endpoint) pair draws from its own seeded stream, and only
 * when that fault is configured for that endpoint, so enabling one fault never shifts another's pattern.
 */
import type { Endpoint, ErrorType, FaultsConfig } from './config';
import type { Random } from './prng';
import { randomFor } from './prng';
import { TargetedFaults, type TargetedDecision } from './targeted-faults';
import type { ResultsCut } from './results-stream';

interface FaultSpec {
  rate: number;
  endpoints: readonly string[];
  maxTimes?: number | undefined;
}

export interface HttpErrorDecision {
  type: ErrorType;
  retryAfterSeconds?: number | undefined;
}

export interface TransportDecision {
  /** Destroy the socket before doing anything. */
  resetBefore: boolean;
  /** Do the work, then destroy the socket instead of answering. */
  resetAfter: boolean;
  /** Real ms to wait before answering. */
  delayMs: number;
  error: HttpErrorDecision | null;
}

const HTTP_ERROR_FAULTS = [
  ['rateLimit', 'rate_limit_error'],
  ['overloaded', 'overloaded_error'],
  ['apiError', 'api_error'],
  ['timeout', 'timeout_error'],
] as const;

export class FaultInjector {
  private streams = new Map<string, Random>();
  private firedCounts = new Map<string, number>();
  private readonly targeted: TargetedFaults;

  constructor(
    private readonly faults: FaultsConfig,
    private readonly seed: number,
  ) {
    this.targeted = new TargetedFaults(faults.targeted);
  }

  /** The faults aimed at this very call (the n-th of its endpoint, or a create holding a custom_id). */
  aimed(endpoint: Endpoint, body: Buffer): TargetedDecision | null {
    return this.targeted.decide(endpoint, body);
  }

  /** The list leaves out batches younger than this many real ms. */
  get listLagMs(): number {
    return this.faults.listLag.withinMs;
  }

  /** Forgets streams and counts: the next run of calls repeats the same pattern. */
  reset(): void {
    this.streams.clear();
    this.firedCounts.clear();
    this.targeted.reset();
  }

  private fires(kind: string, spec: FaultSpec, endpoint: string): boolean {
    if (spec.rate <= 0 || !spec.endpoints.includes(endpoint)) return false;
    const fired = this.firedCounts.get(kind) ?? 0;
    if (spec.maxTimes !== undefined && fired >= spec.maxTimes) return false;
    const key = `${kind}:${endpoint}`;
    let stream = this.streams.get(key);
    if (!stream) {
      stream = randomFor(this.seed, 'fault', key);
      this.streams.set(key, stream);
    }
    if (stream() >= spec.rate) return false;
    this.firedCounts.set(kind, fired + 1);
    return true;
  }

  transport(endpoint: Endpoint): TransportDecision {
    const reset = this.faults.connectionReset;
    const resets = this.fires('connectionReset', reset, endpoint);
    const decision: TransportDecision = {
      resetBefore: resets && reset.phase === 'before',
      resetAfter: resets && reset.phase === 'after',
      delayMs: 0,
      error: null,
    };
    if (resets) return decision;
    if (this.fires('slow', this.faults.slow, endpoint)) decision.delayMs = this.faults.slow.delayMs;
    for (const [kind, type] of HTTP_ERROR_FAULTS) {
      const spec = this.faults[kind];
      if (this.fires(kind, spec, endpoint)) {
        decision.error = { type, retryAfterSeconds: spec.retryAfterSeconds };
        break;
      }
    }
    return decision;
  }

  /** The observed 404 for a batch created less than `withinMs` real ms ago. */
  notFoundAfterCreate(endpoint: Endpoint, batchAgeRealMs: number): boolean {
    const spec = this.faults.notFoundAfterCreate;
    if (batchAgeRealMs >= spec.withinMs) return false;
    return this.fires('notFoundAfterCreate', spec, endpoint);
  }

  /** Lines to send before cutting this results download (and how long to pause first), or null to send them all. */
  resultsCut(): ResultsCut | null {
    const spec = this.faults.resultsCut;
    return this.fires('resultsCut', { ...spec, endpoints: ['results'] }, 'results')
      ? { afterLines: spec.afterLines, pauseMs: spec.pauseMs, ending: spec.ending }
      : null;
  }
}
