/**
 * What the Messages API's token counting endpoint (POST /v1/messages/count_tokens) takes from a request: the body of
 * a Messages call minus what only shapes the answer (max_tokens, sampling, stop sequences, metadata, stream). The
 * client strips a request to this before counting it, and the emulator counts exactly these fields, so a count and
 * the usage of the same request agree.
 */
export const COUNT_TOKENS_FIELDS: readonly string[] = [
  'model',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'thinking',
  'cache_control',
  'output_config',
  'speed',
  'mcp_servers',
];

/** The count_tokens body for one request's params. */
export function countTokensBody(params: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of COUNT_TOKENS_FIELDS) if (params[field] !== undefined) body[field] = params[field];
  return body;
}

/**
 * An upper bound on a request's input tokens without asking the API: one token per UTF-8 byte of its counted fields
 * as JSON (a token is at least one byte of text, and images and documents cost far fewer tokens than their base64
 * bytes). Used where a count is impossible, so a budget reserves too much rather than too little.
 */
export function inputTokensUpperBound(params: Record<string, unknown>): number {
  return new TextEncoder().encode(JSON.stringify(countTokensBody(params))).length;
}

/** The cache lifetime a request marks (the longest of its `cache_control` marks), or undefined when it marks none. */
export function cacheMarkOf(params: unknown): '5m' | '1h' | undefined {
  let mark: '5m' | '1h' | undefined;
  const visit = (value: unknown): void => {
    if (mark === '1h' || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach(visit);
    const record = value as Record<string, unknown>;
    const cc = record['cache_control'];
    if (cc !== null && typeof cc === 'object' && (cc as Record<string, unknown>)['type'] === 'ephemeral') {
      mark = (cc as Record<string, unknown>)['ttl'] === '1h' ? '1h' : (mark ?? '5m');
    }
    for (const [key, child] of Object.entries(record)) if (key !== 'cache_control') visit(child);
  };
  visit(params);
  return mark;
}
