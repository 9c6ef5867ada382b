/**
 * Accounting, so a test can prove what was submitted (paid for) and in which order.
 *
 * `calls` counts every HTTP call per endpoint, faulted or not. `submissions` counts ACCEPTED submissions per
 * custom_id: once per request of each created batch, once per successful POST /v1/messages. A sync call is
 * attributed to a custom_id by, in order: the `x-sluice-custom-id` header; the custom_id of an earlier batch
 * request with identical params; else `sync:<params digest>`.
 */
import type { Endpoint } from './config';
import { ENDPOINTS } from './config';

export interface CreateLogEntry {
  batchId: string;
  /** The batch's created_at. */
  at: string;
  requestCount: number;
  firstCustomId: string;
}

export interface EmulatorStats {
  calls: Record<Endpoint, number>;
  /** Batches created since start (or reset). */
  batches: number;
  /** Requests in all created batches. */
  requestsSubmitted: number;
  submissions: Record<string, { batch: number; sync: number }>;
  createLog: CreateLogEntry[];
  /** Accepted calls that cost money: batches created and POST /v1/messages answered. */
  billableCalls: number;
  /** Answered POST /v1/messages/count_tokens calls (free). */
  tokenCounts: number;
  /** Requests of created batches by kind: ordinary prompts, and packed prompts by the number of answers asked. */
  prompts: PromptCounts;
}

export interface PromptCounts {
  single: number;
  packedByItems: Record<string, number>;
}

function zeroCalls(): Record<Endpoint, number> {
  return Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, 0])) as Record<Endpoint, number>;
}

export class StatsRecorder {
  private calls = zeroCalls();
  private batches = 0;
  private requestsSubmitted = 0;
  private submissions = new Map<string, { batch: number; sync: number }>();
  private createLog: CreateLogEntry[] = [];
  private billableCalls = 0;
  private tokenCounts = 0;
  private prompts: PromptCounts = { single: 0, packedByItems: {} };
  /** params digest → custom_id of the last batch request with those params. */
  private customIdByDigest = new Map<string, string>();

  recordCall(endpoint: Endpoint): void {
    this.calls[endpoint]++;
  }

  private submission(customId: string): { batch: number; sync: number } {
    let entry = this.submissions.get(customId);
    if (!entry) {
      entry = { batch: 0, sync: 0 };
      this.submissions.set(customId, entry);
    }
    return entry;
  }

  recordBatch(entry: CreateLogEntry, requests: readonly { customId: string; digest: string; packItems?: number }[]): void {
    this.batches++;
    this.billableCalls++;
    this.requestsSubmitted += requests.length;
    this.createLog.push(entry);
    for (const request of requests) {
      if (request.packItems === undefined) this.prompts.single++;
      else this.prompts.packedByItems[request.packItems] = (this.prompts.packedByItems[request.packItems] ?? 0) + 1;
      this.submission(request.customId).batch++;
      this.customIdByDigest.set(request.digest, request.customId);
    }
  }

  /** Remembers digests of batches loaded from a state file, without counting them again. */
  rememberDigests(requests: readonly { customId: string; digest: string }[]): void {
    for (const request of requests) this.customIdByDigest.set(request.digest, request.customId);
  }

  /** The custom_id a sync call is attributed to (see the file comment). */
  syncKey(headerCustomId: string | undefined, digest: string): string {
    return headerCustomId ?? this.customIdByDigest.get(digest) ?? `sync:${digest}`;
  }

  recordSync(key: string): void {
    this.billableCalls++;
    this.submission(key).sync++;
  }

  recordTokenCount(): void {
    this.tokenCounts++;
  }

  snapshot(): EmulatorStats {
    return {
      calls: { ...this.calls },
      batches: this.batches,
      requestsSubmitted: this.requestsSubmitted,
      submissions: Object.fromEntries([...this.submissions].map(([key, value]) => [key, { ...value }])),
      createLog: this.createLog.map((entry) => ({ ...entry })),
      billableCalls: this.billableCalls,
      tokenCounts: this.tokenCounts,
      prompts: { single: this.prompts.single, packedByItems: { ...this.prompts.packedByItems } },
    };
  }

  restore(stats: EmulatorStats): void {
    this.calls = { ...zeroCalls(), ...stats.calls };
    this.batches = stats.batches;
    this.requestsSubmitted = stats.requestsSubmitted;
    this.submissions = new Map(Object.entries(stats.submissions).map(([key, value]) => [key, { ...value }]));
    this.createLog = stats.createLog.map((entry) => ({ ...entry }));
    // State files written before these counters existed have neither.
    this.billableCalls = stats.billableCalls ?? stats.batches;
    this.tokenCounts = stats.tokenCounts ?? 0;
    // State files saved before prompts were counted have none.
    this.prompts = { single: stats.prompts?.single ?? 0, packedByItems: { ...stats.prompts?.packedByItems } };
  }

  reset(): void {
    this.calls = zeroCalls();
    this.batches = 0;
    this.requestsSubmitted = 0;
    this.submissions.clear();
    this.createLog = [];
    this.billableCalls = 0;
    this.tokenCounts = 0;
    this.prompts = { single: 0, packedByItems: {} };
    this.customIdByDigest.clear();
  }
}
