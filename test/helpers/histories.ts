/**
 * Recorded workflow histories (test/histories/*.json): how they are read back for replay, how their payloads
 * are decoded for privacy checks, and how a freshly fetched history is scrubbed of what names this machine.
 * The files hold the History message as protobufjs writes it (`toObject` with longs, enums and bytes as strings;
 * one event per line). Not the Temporal CLI's JSON: the SDK's converter for that (historyFromJSON) fails in this
 * dependency tree, where @temporalio/common and @temporalio/proto each carry their own protobufjs.
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORIES_DIR = path.join(__dirname, '..', 'histories');

/** Where recorded temporary files are said to be, instead of this machine's temporary directory. */
export const SCRUBBED_TMP = '/tmp/sluice-recorded';
/** Where the repository is said to be in recorded stack traces. */
export const SCRUBBED_ROOT = '/app';
export const SCRUBBED_IDENTITY = 'sluice-recorder';
/** Every recorded prompt contains this, so a test can tell that none reached a history. */
export const RECORDED_PROMPT = 'Confidential prompt text';

export interface RecordedHistory {
  file: string;
  /** The workflow id is not part of a history; the file name stands for it. */
  workflowId: string;
  workflowType: string;
  json: HistoryJson;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}
export interface HistoryJson {
  events: Record<string, unknown>[];
}

export async function readRecordedHistories(dir = HISTORIES_DIR): Promise<RecordedHistory[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const out: RecordedHistory[] = [];
  for (const file of files) {
    const json = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as HistoryJson;
    const started = json.events[0]?.workflowExecutionStartedEventAttributes as
      { workflowType?: { name?: string } } | undefined;
    out.push({ file, workflowId: file.replace(/\.json$/, ''), workflowType: started?.workflowType?.name ?? '?', json });
  }
  return out;
}

export function forReplay(histories: RecordedHistory[]): HistoryAndWorkflowId[] {
  return histories.map((h) => ({
    workflowId: h.workflowId,
    history: temporal.api.history.v1.History.fromObject(h.json),
  }));
}

/** A fetched history as the plain JSON the files hold. */
export function historyAsJson(history: temporal.api.history.v1.IHistory): HistoryJson {
  const message = temporal.api.history.v1.History.fromObject(history);
  return temporal.api.history.v1.History.toObject(message, {
    longs: String,
    enums: String,
    bytes: String,
  }) as HistoryJson;
}

/** Every payload in a history (inputs, results, signals, updates, memos, failures' details), decoded to text. */
export function decodedPayloads(json: unknown): string[] {
  const out: string[] = [];
  walk(json, (node) => {
    if (isPayload(node)) out.push(Buffer.from(node.data!, 'base64').toString('utf8'));
  });
  return out;
}

/**
 * Replaces this machine's temporary directory, the repository's location and worker identities (host names)
 * everywhere in a history, inside payloads too, so a committed history names nothing of the machine it was
 * recorded on. Nothing the workflow code reads changes shape: only path strings inside recorded values.
 */
export function scrubHistory(json: HistoryJson, repoRoot: string): HistoryJson {
  const tmp = new RegExp(`${escapeRegExp(fsRealTmp())}/sluice-[A-Za-z0-9_-]+`, 'g');
  const root = new RegExp(escapeRegExp(repoRoot), 'g');
  const scrub = (s: string) => s.replace(tmp, SCRUBBED_TMP).replace(root, SCRUBBED_ROOT);
  const copy = JSON.parse(scrub(JSON.stringify(json))) as HistoryJson;
  walk(copy, (node) => {
    if (isPayload(node))
      node.data = Buffer.from(scrub(Buffer.from(node.data!, 'base64').toString('utf8'))).toString('base64');
    if (typeof node.identity === 'string') node.identity = SCRUBBED_IDENTITY;
  });
  return copy;
}

function fsRealTmp(): string {
  return os.tmpdir().replace(/\/+$/, '');
}

function isPayload(node: Record<string, unknown>): node is Record<string, unknown> & JsonPayload {
  const meta = node.metadata as Record<string, unknown> | undefined;
  return (
    typeof node.data === 'string' && typeof meta === 'object' && meta !== null && typeof meta.encoding === 'string'
  );
}

function walk(node: unknown, visit: (n: Record<string, unknown>) => void) {
  if (Array.isArray(node)) return node.forEach((n) => walk(n, visit));
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  visit(obj);
  for (const v of Object.values(obj)) walk(v, visit);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
