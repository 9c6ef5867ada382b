// Tools and tool_choice as the Messages API accepts them: custom tools with a JSON Schema for their input,
// server tools by their versioned type, unique names, and a tool_choice that names a tool that exists.
import { z } from 'zod';
import { discriminatorError } from './request-content';
import { describeValue } from './format';
import { cacheControl, closedObject, expect, isPlainObject } from './request-zod';

export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;
const JSON_SCHEMA_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

/**
 * Why `schema` is not a usable JSON Schema for a tool's input, as a path inside it and a reason; undefined when
 * fine. Checks what the API checks first: an object schema, `properties` an object of schemas, `required` a list
 * of names, and every `type` keyword a JSON Schema type. Iterative, so deep schemas cannot exhaust the stack.
 */
export function inputSchemaProblem(schema: unknown): { path: (string | number)[]; reason: string } | undefined {
  if (!isPlainObject(schema)) return { path: [], reason: `must be a JSON Schema object (got ${describeValue(schema)})` };
  if (schema['type'] !== 'object') return { path: ['type'], reason: `must be "object": a tool's input is an object (got ${describeValue(schema['type'])})` };
  const todo: { node: unknown; path: (string | number)[] }[] = [{ node: schema, path: [] }];
  while (todo.length > 0) {
    const { node, path } = todo.pop()!;
    if (typeof node === 'boolean') continue;
    if (!isPlainObject(node)) return { path, reason: `must be a schema (an object or a boolean) (got ${describeValue(node)})` };
    const type = node['type'];
    if (type !== undefined) {
      const types: unknown[] = Array.isArray(type) ? (type as unknown[]) : [type];
      const wrong = types.find((t) => typeof t !== 'string' || !JSON_SCHEMA_TYPES.includes(t));
      if (wrong !== undefined || types.length === 0) {
        return { path: [...path, 'type'], reason: `must be a JSON Schema type (${JSON_SCHEMA_TYPES.join(', ')}) (got ${describeValue(wrong ?? type)})` };
      }
    }
    const properties = node['properties'];
    if (properties !== undefined) {
      if (!isPlainObject(properties)) return { path: [...path, 'properties'], reason: `must be an object of schemas (got ${describeValue(properties)})` };
      for (const [key, sub] of Object.entries(properties)) todo.push({ node: sub, path: [...path, 'properties', key] });
    }
    const required = node['required'];
    if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== 'string'))) {
      return { path: [...path, 'required'], reason: `must be an array of property names (got ${describeValue(required)})` };
    }
    const items = node['items'];
    if (items !== undefined) todo.push({ node: items, path: [...path, 'items'] });
  }
  return undefined;
}

const toolName = z
  .string({ error: expect(`must be a tool name matching ${TOOL_NAME_PATTERN.source}`) })
  .regex(TOOL_NAME_PATTERN, { error: expect(`must be a tool name matching ${TOOL_NAME_PATTERN.source}`) });

const customTool = closedObject(
  {
    type: z.enum(['custom']).nullable().optional(),
    name: toolName,
    description: z.string({ error: expect('must be a string') }).optional(),
    input_schema: z.unknown().superRefine((schema, ctx) => {
      if (schema === undefined) return ctx.addIssue({ code: 'custom', message: 'is required: a JSON Schema of the tool\'s input, e.g. {"type": "object"}' });
      const problem = inputSchemaProblem(schema);
      if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.reason });
    }),
    cache_control: cacheControl.optional(),
    allowed_callers: z.array(z.string()).optional(),
    defer_loading: z.boolean().optional(),
    eager_input_streaming: z.boolean().nullable().optional(),
    input_examples: z.array(z.unknown()).optional(),
    strict: z.boolean({ error: expect('must be true or false') }).optional(),
  },
  'a tool',
  'must be a tool (an object with "name" and "input_schema")',
);

/** Server tools (bash_20250124, web_search_20260318, ...): a versioned type and a name; the API checks the rest. */
const serverTool = z.looseObject({
  type: z.string().regex(/_\d{8}$/, { error: expect('must be "custom" or a server tool type such as "web_search_20260318"') }),
  name: toolName,
});

export const ToolSchema = z.unknown().superRefine((tool, ctx) => {
  const isServer = isPlainObject(tool) && tool['type'] !== undefined && tool['type'] !== null && tool['type'] !== 'custom';
  const result = (isServer ? serverTool : customTool).safeParse(tool);
  if (!result.success) for (const i of result.error.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
});

export const ToolChoiceSchema = z.discriminatedUnion(
  'type',
  [
    closedObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }, 'tool_choice', 'must be a tool_choice'),
    closedObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }, 'tool_choice', 'must be a tool_choice'),
    closedObject({ type: z.literal('tool'), name: toolName, disable_parallel_tool_use: z.boolean().optional() }, 'tool_choice', 'must be a tool_choice'),
    closedObject({ type: z.literal('none') }, 'tool_choice', 'must be a tool_choice'),
  ],
  { error: discriminatorError('a tool_choice type', ['auto', 'any', 'tool', 'none'], 'must be an object like {"type": "auto"}') },
);

/** Issues across tools and tool_choice: duplicate names, and a choice that needs tools or names a missing one. */
export function toolIssues(params: Record<string, unknown>): { path: (string | number)[]; reason: string }[] {
  const issues: { path: (string | number)[]; reason: string }[] = [];
  const tools = Array.isArray(params['tools']) ? (params['tools'] as unknown[]) : [];
  const firstIndex = new Map<string, number>();
  tools.forEach((tool, i) => {
    const name = isPlainObject(tool) ? tool['name'] : undefined;
    if (typeof name !== 'string') return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, i);
    else issues.push({ path: ['tools', i, 'name'], reason: `duplicate tool name ${describeValue(name)}, first used by tools[${first}]: tool names must be unique` });
  });
  const choice = params['tool_choice'];
  if (isPlainObject(choice)) {
    if ((choice['type'] === 'any' || choice['type'] === 'tool') && tools.length === 0) {
      issues.push({ path: ['tool_choice', 'type'], reason: `"${choice['type']}" needs tools, and this request has none` });
    } else if (choice['type'] === 'tool' && typeof choice['name'] === 'string' && !firstIndex.has(choice['name'])) {
      const names = [...firstIndex.keys()].map((n) => describeValue(n)).join(', ');
      issues.push({ path: ['tool_choice', 'name'], reason: `names no tool of this request (got ${describeValue(choice['name'])}; tools: ${names})` });
    }
  }
  return issues;
}
