/**
 * Which failed enqueue updates a client sends again (with the same update id, so Temporal applies it at most once).
 *
 * - the workflow's limit of in-flight updates (RESOURCE_EXHAUSTED, or its message);
 * - a workflow task the server retries after a failure (FAILED_PRECONDITION "Workflow Task in failed state", or
 *   "unexpected workflow task failure" for an update that arrived while that task ran: e.g. a continue-as-new the
 *   server refused with UnhandledCommand because new updates came in, which the next task handles);
 * - the server dropping its in-memory record of updates not yet accepted ("workflow update was aborted": UNAVAILABLE,
 *   ABORTED on newer servers). That happens when the server reloads the workflow's state, e.g. its cache evicts it
 *   under load; the update never reached the workflow and Temporal documents it as retryable.
 */
export function isRetryableUpdateError(err: unknown): boolean {
  const cause = (err as { cause?: { code?: number; message?: string } }).cause;
  const code = (err as { code?: number }).code ?? cause?.code;
  const message = String(cause?.message ?? (err as Error).message);
  if (code === 8 || /in-flight updates/.test(String((err as Error).message))) return true;
  if ((code === 14 || code === 10) && /update was aborted/.test(message)) return true;
  return code === 9 && /Workflow Task in failed state|unexpected workflow task failure/i.test(message);
}
