/**
 * What the Messages API refuses inside one request's params, worded as the API words it (pydantic-style
 * `path: message`, or the API's own sentences for rules across fields). Pure. Independent of Sluice's own checks
 * (src/domain/request-*.ts) on purpose: the emulator stands in for the API that those checks are tested against.
 */
import type { ModelRules } from './validation';
import { findServedModel } from './models';

const BLOCK_TAGS = [
  'text', 'image', 'document', 'search_result', 'thinking', 'redacted_thinking', 'tool_use', 'tool_result',
  'server_tool_use', 'web_search_tool_result', 'web_fetch_tool_result', 'code_execution_tool_result',
  'bash_code_execution_tool_result', 'text_editor_code_execution_tool_result', 'tool_search_tool_result',
  'container_upload',
];
const BODY_FIELDS = new Set([
  'model', 'max_tokens', 'messages', 'system', 'metadata', 'stop_sequences', 'stream', 'temperature', 'top_p', 'top_k',
  'thinking', 'tools', 'tool_choice', 'cache_control', 'container', 'diagnostics', 'inference_geo', 'output_config',
  'service_tier', 'speed', 'billing_policy', 'compaction', 'context_management', 'fallback_credit_token', 'fallbacks',
  'mcp_servers', 'output_format', 'thread',
]);
/**
 * The fields POST /v1/messages/count_tokens takes: a Messages body minus what only shapes the answer. Kept apart from
 * Sluice's own list (src/domain/token-count.ts) on purpose, like every rule here.
 */
export const COUNT_FIELDS: readonly string[] = [
  'model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'cache_control', 'output_config', 'speed', 'mcp_servers',
];
/** The fields of the blocks whose extra fields the emulator refuses (the others are passed through). */
const BLOCK_FIELDS: Record<string, string[]> = {
  text: ['type', 'text', 'cache_control', 'citations'],
  image: ['type', 'source', 'cache_control', 'transformations'],
};
const MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const THINKING_DOCS = 'https://docs.claude.com/en/docs/build-with-claude/extended-thinking';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const quoteList = (items: string[]) => items.map((t) => `'${t}'`).join(', ');
const orList = (items: string[]) => `${items.slice(0, -1).map((t) => `'${t}'`).join(', ')} or '${items.at(-1) ?? ''}'`;

function rangeProblem(name: string, value: unknown, min: number, max: number | null, integer = false): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || (integer && !Number.isInteger(value))) {
    return `${name}: Input should be a valid ${integer ? 'integer' : 'number'}`;
  }
  if (value < min) return `${name}: Input should be greater than or equal to ${min}`;
  if (max !== null && value > max) return `${name}: Input should be less than or equal to ${max}`;
  return null;
}

/** The image type base64 data starts with, by its magic bytes; null when it is none of the four. */
function sniffImage(data: string): string | null {
  const head = Buffer.from(data.slice(0, 16), 'base64');
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

function imageProblem(block: Record<string, unknown>, at: string): string | null {
  const source = block['source'];
  if (!isObject(source)) return `${at}.image.source: Field required`;
  if (!['base64', 'url', 'file'].includes(String(source['type']))) {
    return `${at}.image.source: Input tag '${String(source['type'])}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'`;
  }
  if (source['type'] !== 'base64') return null;
  const where = `${at}.image.source.base64`;
  if (typeof source['media_type'] !== 'string' || !MEDIA_TYPES.includes(source['media_type'])) {
    return `${where}.media_type: Input should be ${orList(MEDIA_TYPES)}`;
  }
  const data = source['data'];
  if (typeof data !== 'string' || data.length === 0 || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    return `${where}.data: Invalid base64 data`;
  }
  const actual = sniffImage(data);
  if (actual !== null && actual !== source['media_type']) {
    return `${where}: Image does not match the provided media type ${source['media_type']}`;
  }
  return null;
}

function cacheControlProblem(value: unknown, at: string): string | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value) || value['type'] !== 'ephemeral') {
    return `${at}: Input tag '${isObject(value) ? String(value['type']) : ''}' found using 'type' does not match any of the expected tags: 'ephemeral'`;
  }
  if (value['ttl'] !== undefined && value['ttl'] !== '5m' && value['ttl'] !== '1h') return `${at}.ephemeral.ttl: Input should be '5m' or '1h'`;
  return null;
}

function blockProblem(block: unknown, at: string): string | null {
  if (!isObject(block)) return `${at}: Input should be a valid dictionary or object to extract fields from`;
  const type = block['type'];
  if (typeof type !== 'string' || !BLOCK_TAGS.includes(type)) {
    return `${at}: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: ${quoteList(BLOCK_TAGS)}`;
  }
  const cache = cacheControlProblem(block['cache_control'], `${at}.${type}.cache_control`);
  if (cache) return cache;
  const fields = BLOCK_FIELDS[type];
  const extra = fields === undefined ? undefined : Object.keys(block).find((k) => !fields.includes(k));
  if (extra !== undefined) return `${at}.${type}.${extra}: Extra inputs are not permitted`;
  if (type === 'text') {
    if (typeof block['text'] !== 'string') return `${at}.text.text: Input should be a valid string`;
    if (block['text'] === '') return 'messages: text content blocks must be non-empty';
    if (block['text'].trim() === '') return 'messages: text content blocks must contain non-whitespace text';
  }
  if (type === 'image') return imageProblem(block, at);
  return null;
}

export function messagesProblem(messages: unknown): string | null {
  if (messages === undefined) return 'messages: Field required';
  if (!Array.isArray(messages)) return 'messages: Input should be a valid list';
  if (messages.length === 0) return 'messages: at least one message is required';
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (!isObject(message)) return `messages.${i}: Input should be a valid dictionary`;
    if (message['role'] !== 'user' && message['role'] !== 'assistant') {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    for (const key of Object.keys(message)) {
      if (key !== 'role' && key !== 'content') return `messages.${i}.${key}: Extra inputs are not permitted`;
    }
    const content = message['content'];
    if (content === undefined) return `messages.${i}.content: Field required`;
    if (typeof content !== 'string' && !Array.isArray(content)) {
      return `messages.${i}.content: Input should be a valid string or list`;
    }
    const finalAssistant = i === messages.length - 1 && message['role'] === 'assistant';
    if (content.length === 0 && !finalAssistant) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    if (Array.isArray(content)) {
      for (let j = 0; j < content.length; j++) {
        const problem = blockProblem(content[j], `messages.${i}.content.${j}`);
        if (problem) return problem;
      }
    }
  }
  return null;
}

function schemaIsValid(schema: unknown): boolean {
  const todo: unknown[] = [schema];
  const types = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
  while (todo.length > 0) {
    const node = todo.pop();
    if (typeof node === 'boolean') continue;
    if (!isObject(node)) return false;
    const type = node['type'];
    if (type !== undefined && !(Array.isArray(type) ? type : [type]).every((t) => typeof t === 'string' && types.includes(t))) return false;
    const props = node['properties'];
    if (props !== undefined) {
      if (!isObject(props)) return false;
      todo.push(...Object.values(props));
    }
    const required = node['required'];
    if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== 'string'))) return false;
    if (node['items'] !== undefined) todo.push(node['items']);
  }
  return true;
}

function toolsProblem(params: Record<string, unknown>): string | null {
  const tools = params['tools'];
  if (tools !== undefined && !Array.isArray(tools)) return 'tools: Input should be a valid list';
  const list = (tools ?? []) as unknown[];
  const names: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const tool = list[i];
    if (!isObject(tool)) return `tools.${i}: Input should be a valid dictionary or object to extract fields from`;
    const custom = tool['type'] === undefined || tool['type'] === null || tool['type'] === 'custom';
    if (typeof tool['name'] !== 'string') return `tools.${i}.${custom ? 'custom.' : ''}name: Field required`;
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(tool['name'])) {
      return `tools.${i}.${custom ? 'custom.' : ''}name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
    }
    if (custom) {
      const schema = tool['input_schema'];
      if (schema === undefined) return `tools.${i}.custom.input_schema: Field required`;
      if (!isObject(schema) || schema['type'] !== 'object' || !schemaIsValid(schema)) {
        return `tools.${i}.custom.input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12 (https://json-schema.org/draft/2020-12). Learn more about tool use at https://docs.claude.com/en/docs/tool-use.`;
      }
    }
    names.push(tool['name']);
  }
  if (new Set(names).size !== names.length) return 'tools: Tool names must be unique.';
  const choice = params['tool_choice'];
  if (choice !== undefined) {
    if (!isObject(choice) || !['auto', 'any', 'tool', 'none'].includes(String(choice['type']))) {
      return `tool_choice: Input tag '${isObject(choice) ? String(choice['type']) : ''}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`;
    }
    if ((choice['type'] === 'any' || choice['type'] === 'tool') && names.length === 0) {
      return 'tool_choice: tool_choice may only be specified while providing tools.';
    }
    if (choice['type'] === 'tool' && !names.includes(String(choice['name']))) {
      return `tool_choice: Tool '${String(choice['name'])}' not found in tools`;
    }
  }
  return null;
}

function thinkingProblem(params: Record<string, unknown>): string | null {
  const thinking = params['thinking'];
  if (thinking === undefined) return null;
  if (!isObject(thinking)) return 'thinking: Input should be a valid dictionary or object to extract fields from';
  const type = thinking['type'];
  if (!['enabled', 'disabled', 'adaptive', 'between_tools'].includes(String(type))) {
    return `thinking: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive', 'between_tools'`;
  }
  if (type === 'enabled') {
    if (thinking['budget_tokens'] === undefined) return 'thinking.enabled.budget_tokens: Field required';
    const budget = rangeProblem('thinking.enabled.budget_tokens', thinking['budget_tokens'], 1024, null, true);
    if (budget) return budget;
    if ((thinking['budget_tokens'] as number) >= (params['max_tokens'] as number)) {
      return `\`max_tokens\` must be greater than \`thinking.budget_tokens\`. Please consult our documentation at ${THINKING_DOCS}#max-tokens-and-context-window-size`;
    }
  }
  if (type === 'enabled' || type === 'adaptive') {
    if (params['temperature'] !== undefined && params['temperature'] !== 1) {
      return `\`temperature\` may only be set to 1 when thinking is enabled. Please consult our documentation at ${THINKING_DOCS}#feature-compatibility`;
    }
    if (params['top_k'] !== undefined) {
      return `\`top_k\` is not supported when thinking is enabled. Please consult our documentation at ${THINKING_DOCS}#feature-compatibility`;
    }
    if (typeof params['top_p'] === 'number' && params['top_p'] < 0.95) {
      return `\`top_p\` must be greater than or equal to 0.95 and less than or equal to 1 when thinking is enabled. Please consult our documentation at ${THINKING_DOCS}#feature-compatibility`;
    }
  }
  return null;
}

function modelProblem(params: Record<string, unknown>, models: ModelRules): string | null {
  const model = params['model'] as string;
  const served = findServedModel(model, models.lineup);
  if (served === undefined || served.lifecycle === 'retired') {
    return models.acceptPrefix !== null && served === undefined && model.startsWith(models.acceptPrefix) ? null : `model: ${model}`;
  }
  const maxTokens = params['max_tokens'] as number;
  if (served.maxTokens !== null && maxTokens > served.maxTokens) {
    return `max_tokens: ${maxTokens} > ${served.maxTokens}, which is the maximum allowed number of output tokens for ${served.id}`;
  }
  if (served.fixedSampling) {
    for (const key of ['temperature', 'top_p', 'top_k']) {
      const value = params[key];
      if (value !== undefined && !(key === 'temperature' && value === 1)) {
        return `${key}: This model does not support setting \`${key}\`; omit it to use the default.`;
      }
    }
  }
  const thinking = params['thinking'];
  if (isObject(thinking) && thinking['type'] === 'enabled' && served.manualThinking === false) {
    return `thinking.type.enabled: Manual extended thinking is not supported on ${served.id}; use thinking.type.adaptive instead.`;
  }
  return null;
}

/** The problem with one request's params, or null. `where` changes only the wording for `stream`. */
export function validateParams(params: Record<string, unknown>, models: ModelRules, where: 'batch' | 'sync'): string | null {
  const model = params['model'];
  if (model === undefined) return 'model: Field required';
  if (typeof model !== 'string') return 'model: Input should be a valid string';
  const maxTokens = params['max_tokens'];
  if (maxTokens === undefined) return 'max_tokens: Field required';
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens)) return 'max_tokens: Input should be a valid integer';
  if (maxTokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  for (const key of Object.keys(params)) {
    if (!BODY_FIELDS.has(key)) return `${key}: Extra inputs are not permitted`;
  }
  const messages = messagesProblem(params['messages']);
  if (messages) return messages;
  const stream = params['stream'];
  if (stream !== undefined && typeof stream !== 'boolean') return 'stream: Input should be a valid boolean';
  if (stream === true && where === 'batch') return 'stream: Streaming is not supported in the Message Batches API';
  const system = params['system'];
  if (system !== undefined && typeof system !== 'string') {
    if (!Array.isArray(system)) return 'system: Input should be a valid string or list';
    for (let i = 0; i < system.length; i++) {
      const block: unknown = system[i];
      if (!isObject(block) || block['type'] !== 'text' || typeof block['text'] !== 'string') return `system.${i}: Input should be a valid text block`;
      if (block['text'].trim() === '') return 'system: text content blocks must be non-empty';
    }
  }
  const range =
    rangeProblem('temperature', params['temperature'], 0, 1) ??
    rangeProblem('top_p', params['top_p'], 0, 1) ??
    rangeProblem('top_k', params['top_k'], 0, null, true);
  if (range) return range;
  const stops = params['stop_sequences'];
  if (stops !== undefined && !Array.isArray(stops)) return 'stop_sequences: Input should be a valid list';
  if (Array.isArray(stops)) {
    const bad = stops.findIndex((s) => typeof s !== 'string');
    if (bad >= 0) return `stop_sequences.${bad}: Input should be a valid string`;
  }
  const metadata = params['metadata'];
  if (metadata !== undefined) {
    if (!isObject(metadata)) return 'metadata: Input should be a valid dictionary or object to extract fields from';
    for (const key of Object.keys(metadata)) if (key !== 'user_id') return `metadata.${key}: Extra inputs are not permitted`;
    const userId = metadata['user_id'];
    if (userId !== undefined && userId !== null && typeof userId !== 'string') return 'metadata.user_id: Input should be a valid string';
  }
  return toolsProblem(params) ?? thinkingProblem(params) ?? cacheBreakpointProblem(params) ?? modelProblem(params, models);
}

/** The API's limits on breakpoints: at most 4 (the automatic one counts), and 1-hour ones before 5-minute ones. */
function cacheBreakpointProblem(params: Record<string, unknown>): string | null {
  const marks: unknown[] = [];
  const collect = (list: unknown) => {
    if (Array.isArray(list)) for (const b of list) if (isObject(b) && isObject(b['cache_control'])) marks.push(b['cache_control']);
  };
  collect(params['tools']);
  collect(params['system']);
  if (Array.isArray(params['messages'])) for (const m of params['messages']) if (isObject(m)) collect(m['content']);
  const total = marks.length + (isObject(params['cache_control']) ? 1 : 0);
  if (total > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${total}.`;
  const ttls = marks.map((m) => ((m as Record<string, unknown>)['ttl'] === '1h' ? '1h' : '5m'));
  const short = ttls.indexOf('5m');
  if (short >= 0 && ttls.slice(short).includes('1h')) {
    return "A cache_control block with ttl='1h' must not come after a block with ttl='5m'. Place longer-lived cache breakpoints first.";
  }
  return null;
}

/**
 * The problem with a count_tokens body, or null: the fields of a Messages body that count (src/domain/token-count.ts)
 * and nothing else (max_tokens, sampling and stream are refused as extra inputs, as the API does), then every rule of
 * a Messages body that applies to those fields.
 */
export function validateCountTokensParams(params: Record<string, unknown>, models: ModelRules): string | null {
  for (const key of Object.keys(params)) {
    if (!COUNT_FIELDS.includes(key)) return `${key}: Extra inputs are not permitted`;
  }
  // The Messages rules need a max_tokens: one above any thinking budget, so only the counted fields are judged.
  const thinking = params['thinking'];
  const budget = isObject(thinking) && typeof thinking['budget_tokens'] === 'number' ? thinking['budget_tokens'] : 0;
  return validateParams({ ...params, max_tokens: budget + 1 }, models, 'sync');
}
