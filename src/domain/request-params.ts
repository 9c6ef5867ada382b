// A Messages API body as the API checks it, before anything is sent: the fields of the SDK's
// MessageCreateParams (standard and beta) plus the sampling parameters of the API reference, with their
// documented ranges, and the rules across fields (thinking budget, thinking with sampling, tools).
import { z } from 'zod';
import { didYouMean } from './did-you-mean';
import { describeValue, formatInteger } from './format';
import { breakpointIssues } from './cache-prefix';
import { checkWith, ContentBlockSchema, discriminatorError, TextBlockSchema } from './request-content';
import { toolIssues, ToolChoiceSchema, ToolSchema } from './request-tools';
import { cacheControl, closedObject, expect, isPlainObject } from './request-zod';

/** Body fields of MessageCreateParams in the SDK (standard and beta), and the API reference's sampling fields. */
export const KNOWN_PARAMS = [
  'model', 'max_tokens', 'messages', 'system', 'metadata', 'stop_sequences', 'stream', 'temperature', 'top_p', 'top_k',
  'thinking', 'tools', 'tool_choice', 'cache_control', 'container', 'diagnostics', 'inference_geo', 'output_config',
  'service_tier', 'speed', 'billing_policy', 'compaction', 'context_management', 'fallback_credit_token', 'fallbacks',
  'mcp_servers', 'output_format', 'thread',
] as const;

/** Header parameters of the SDK's methods: they travel with the create call, never inside one request. */
const HEADER_PARAMS = ['betas', 'user_profile_id', 'workspace_id'];

/** Manual extended thinking needs at least this budget (API reference). */
export const MIN_THINKING_BUDGET_TOKENS = 1_024;

const unitRange = (name: string) => {
  const text = `must be a number from 0 to 1`;
  return z.number({ error: expect(text) }).min(0, { error: expect(text) }).max(1, { error: expect(text) }).describe(name);
};
export const temperature = unitRange('temperature');
const MAX_TOKENS = 'must be an integer ≥ 1';
export const maxTokens = z
  .number({ error: expect(MAX_TOKENS) })
  .int({ error: expect(MAX_TOKENS) })
  .min(1, { error: expect(MAX_TOKENS) });
const MODEL = 'must be a non-empty model name';
export const model = z.string({ error: expect(MODEL) }).min(1, { error: expect(MODEL) });
const SYSTEM = 'must be a string or an array of text blocks ({"type": "text", "text": "..."})';
export const system = z
  .union([z.string(), z.array(z.looseObject({ type: z.literal('text'), text: z.string() }))], { error: expect(SYSTEM) })
  .superRefine((value, ctx) => {
    if (Array.isArray(value)) value.forEach((block, i) => checkWith(TextBlockSchema, block, ctx, [i]));
  });

const CONTENT = 'must be a string or an array of content blocks (objects with a "type")';
const content = z
  .union([z.string(), z.array(z.looseObject({ type: z.string() }))], { error: expect(CONTENT) })
  .superRefine((value, ctx) => {
    if (Array.isArray(value)) value.forEach((block, i) => checkWith(ContentBlockSchema, block, ctx, [i]));
  });

const MessageSchema = closedObject(
  { role: z.enum(['user', 'assistant'], { error: expect('must be "user" or "assistant"') }), content },
  'a message',
  'must be an object with "role" and "content"',
);

const messages = z
  .array(MessageSchema, { error: expect('must be a non-empty array of messages') })
  .min(1, { error: expect('must have at least one message') })
  .superRefine((list, ctx) => {
    // The API: "all messages must have non-empty content except for the optional final assistant message".
    list.forEach((m, i) => {
      const empty = m.content.length === 0;
      const finalAssistant = i === list.length - 1 && m.role === 'assistant';
      if (empty && !finalAssistant) {
        ctx.addIssue({ code: 'custom', path: [i, 'content'], message: `must not be empty (got ${describeValue(m.content)}): only a final assistant message may be empty` });
      }
    });
  });

const thinking = z.discriminatedUnion(
  'type',
  [
    closedObject(
      {
        type: z.literal('enabled'),
        budget_tokens: z
          .number({ error: expect(`must be an integer ≥ ${formatInteger(MIN_THINKING_BUDGET_TOKENS)}`) })
          .int({ error: expect(`must be an integer ≥ ${formatInteger(MIN_THINKING_BUDGET_TOKENS)}`) })
          .min(MIN_THINKING_BUDGET_TOKENS, { error: expect(`must be at least ${formatInteger(MIN_THINKING_BUDGET_TOKENS)}`) }),
        display: z.enum(['summarized', 'omitted']).nullable().optional(),
      },
      'thinking',
      'must be a thinking configuration',
    ),
    closedObject({ type: z.literal('disabled') }, 'thinking', 'must be a thinking configuration'),
    closedObject({ type: z.literal('between_tools') }, 'thinking', 'must be a thinking configuration'),
    closedObject({ type: z.literal('adaptive'), display: z.enum(['summarized', 'omitted']).nullable().optional() }, 'thinking', 'must be a thinking configuration'),
  ],
  { error: discriminatorError('a thinking type', ['enabled', 'disabled', 'adaptive', 'between_tools'], 'must be an object like {"type": "adaptive"}') },
);

const metadata = closedObject(
  { user_id: z.string({ error: expect('must be a string or null') }).max(256, { error: expect('must be at most 256 characters') }).nullable().optional() },
  'metadata',
  'must be an object like {"user_id": "..."}',
);

const STOP_SEQUENCES = 'must be an array of strings, e.g. ["END"]';

/**
 * The body of one request. Loose at the top (unknown fields are reported by `unknownParamIssues`, with a
 * suggestion each); each known field checked as the API checks it.
 */
export const MessageParamsSchema = z
  .looseObject(
    {
      model,
      max_tokens: maxTokens,
      messages,
      system: system.optional(),
      temperature: temperature.optional(),
      top_p: unitRange('top_p').optional(),
      top_k: z.number({ error: expect('must be an integer ≥ 0') }).int({ error: expect('must be an integer ≥ 0') }).min(0, { error: expect('must be an integer ≥ 0') }).optional(),
      // Batches cannot stream; typed `false` so validated params fit the SDK's batch request type.
      stream: z
        .literal(false, {
          error: (issue) => (issue.input === true ? 'stream: true is not allowed in a batch' : expect('must be false or absent')(issue)),
        })
        .optional(),
      stop_sequences: z.array(z.string({ error: expect('must be a string') }), { error: expect(STOP_SEQUENCES) }).optional(),
      metadata: metadata.optional(),
      thinking: thinking.optional(),
      tools: z.array(ToolSchema, { error: expect('must be an array of tools') }).optional(),
      tool_choice: ToolChoiceSchema.optional(),
      cache_control: cacheControl.optional(),
      service_tier: z.enum(['auto', 'standard_only'], { error: expect('must be "auto" or "standard_only"') }).optional(),
      speed: z.enum(['standard', 'fast'], { error: expect('must be "standard" or "fast"') }).nullable().optional(),
      inference_geo: z.string({ error: expect('must be a string') }).nullable().optional(),
    },
    { error: expect('must be an object (a Messages API body)') },
  )
  .superRefine((params, ctx) => {
    for (const issue of crossFieldIssues(params)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.reason });
  });
/**
 * What a validated request body is, for senders: the checked fields typed, the rest passed on as written. Declared
 * by hand (not inferred) so it stays assignable to the SDK's request type whatever the refinements add.
 */
export interface MessageParams {
  model: string;
  max_tokens: number;
  messages: { role: 'user' | 'assistant'; content: string | { type: string; [key: string]: unknown }[]; [key: string]: unknown }[];
  system?: string | { type: 'text'; text: string; [key: string]: unknown }[];
  temperature?: number;
  stream?: false;
  [key: string]: unknown;
}

export interface ParamIssue {
  path: (string | number)[];
  reason: string;
}

/** Each field the Messages API does not know, with the known one it most likely stands for. */
export function unknownParamIssues(params: Record<string, unknown>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  for (const key of Object.keys(params)) {
    if ((KNOWN_PARAMS as readonly string[]).includes(key)) continue;
    const reason = HEADER_PARAMS.includes(key)
      ? 'is a header of the create call, not a field of a request body: it cannot be set per request'
      : `is not a Messages API parameter${didYouMean(key, KNOWN_PARAMS)}`;
    issues.push({ path: [key], reason });
  }
  return issues;
}

/** Subtrees whose keys are the user's own names (JSON Schema properties, tool inputs): any key is fine there. */
const FREE_FORM_KEYS = new Set(['input_schema', 'input', 'input_examples']);

/**
 * Own "__proto__" keys below the top level (zod reads such a key as a prototype, so the schema cannot see it).
 * JSON.parse makes them plain data; the API has no field of that name, and a prototype key in a request is a
 * mistake or a probe. Iterative, so deep input cannot exhaust the stack.
 */
export function protoKeyIssues(params: Record<string, unknown>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  const todo: { node: unknown; path: (string | number)[] }[] = Object.entries(params)
    .filter(([key]) => !FREE_FORM_KEYS.has(key) && key !== '__proto__')
    .map(([key, node]) => ({ node, path: [key] }));
  while (todo.length > 0) {
    const { node, path } = todo.pop()!;
    if (Array.isArray(node)) node.forEach((child, i) => todo.push({ node: child, path: [...path, i] }));
    else if (isPlainObject(node)) {
      for (const [key, child] of Object.entries(node)) {
        if (key === '__proto__') issues.push({ path: [...path, key], reason: 'is not a field of anything in a Messages API request' });
        else if (!FREE_FORM_KEYS.has(key)) todo.push({ node: child, path: [...path, key] });
      }
    }
  }
  return issues;
}

/** Rules across fields, each as the API states it. */
function crossFieldIssues(params: Record<string, unknown>): ParamIssue[] {
  const issues = [...toolIssues(params), ...breakpointIssues(params)];
  const t = params['thinking'];
  const on = isPlainObject(t) && (t['type'] === 'enabled' || t['type'] === 'adaptive');
  if (isPlainObject(t) && t['type'] === 'enabled' && typeof t['budget_tokens'] === 'number' && typeof params['max_tokens'] === 'number') {
    if (t['budget_tokens'] >= params['max_tokens']) {
      issues.push({
        path: ['thinking', 'budget_tokens'],
        reason: `must be less than max_tokens (got ${formatInteger(t['budget_tokens'])} with max_tokens ${formatInteger(params['max_tokens'])}): thinking tokens count toward max_tokens`,
      });
    }
  }
  if (on) {
    const temp = params['temperature'];
    if (typeof temp === 'number' && temp !== 1) {
      issues.push({ path: ['temperature'], reason: `may only be 1 (or absent) when thinking is on (got ${describeValue(temp)})` });
    }
    if (params['top_k'] !== undefined) issues.push({ path: ['top_k'], reason: 'must be absent when thinking is on' });
    const topP = params['top_p'];
    if (typeof topP === 'number' && topP < 0.95) {
      issues.push({ path: ['top_p'], reason: `must be from 0.95 to 1 when thinking is on (got ${describeValue(topP)})` });
    }
  }
  return issues;
}
