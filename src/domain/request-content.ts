// Content blocks of a message, as the Messages API accepts them (the SDK's ContentBlockParam union and the API
// reference): known block types only, non-empty text, images with a known media type and real base64 data.
import { z } from 'zod';
import { didYouMean } from './did-you-mean';
import { describeValue } from './format';
import { base64Problem, imageTypeOf } from './base64';
import { cacheControl, closedObject, expect, isPlainObject, nonEmptyString } from './request-zod';

/** Every `type` of the SDK's ContentBlockParam. */
export const CONTENT_BLOCK_TYPES = [
  'text',
  'image',
  'document',
  'search_result',
  'thinking',
  'redacted_thinking',
  'tool_use',
  'tool_result',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'container_upload',
] as const;

export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;

const NON_EMPTY_TEXT = 'must contain non-whitespace text';

export const TextBlockSchema = closedObject(
  {
    type: z.literal('text'),
    text: z.string({ error: expect('must be a string') }).refine((t) => t.trim() !== '', {
      error: (issue) => `${NON_EMPTY_TEXT} (got ${describeValue(issue.input)})`,
    }),
    cache_control: cacheControl.optional(),
    citations: z.array(z.unknown()).nullable().optional(),
  },
  'a text block',
  'must be a text block',
);

const base64Source = closedObject(
  {
    type: z.literal('base64'),
    media_type: z.enum(IMAGE_MEDIA_TYPES, { error: expect(`must be one of ${IMAGE_MEDIA_TYPES.map((t) => `"${t}"`).join(', ')}`) }),
    data: nonEmptyString('must be base64 image data').superRefine((data, ctx) => {
      const problem = base64Problem(data);
      if (problem) ctx.addIssue({ code: 'custom', message: `is not valid base64: ${problem}` });
    }),
  },
  'a base64 image source',
  'must be an image source',
).superRefine((source, ctx) => {
  // The API checks that the bytes are the image the media type says (PNG data sent as image/jpeg is refused).
  const actual = imageTypeOf(source.data);
  if (actual !== undefined && actual !== source.media_type) {
    ctx.addIssue({ code: 'custom', path: ['media_type'], message: `says "${source.media_type}" but the data is ${actual}` });
  }
});

const imageSource = z.discriminatedUnion(
  'type',
  [
    base64Source,
    closedObject({ type: z.literal('url'), url: nonEmptyString('must be a URL') }, 'a URL image source', 'must be an image source'),
    closedObject({ type: z.literal('file'), file_id: nonEmptyString('must be a file id') }, 'a file image source', 'must be an image source'),
  ],
  { error: discriminatorError('an image source type', ['base64', 'url', 'file'], 'must be an object like {"type": "base64", "media_type": "image/png", "data": "..."}') },
);

export const ImageBlockSchema = closedObject(
  {
    type: z.literal('image'),
    source: imageSource,
    cache_control: cacheControl.optional(),
    transformations: z.unknown().optional(),
  },
  'an image block',
  'must be an image block',
);

/** Blocks Sluice checks field by field; the other known types are passed on as they are. */
const passedOn = CONTENT_BLOCK_TYPES.filter((t) => t !== 'text' && t !== 'image').map((t) => z.looseObject({ type: z.literal(t) }));

export const ContentBlockSchema = z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema, ...passedOn], {
  error: discriminatorError('a content block type', CONTENT_BLOCK_TYPES, 'must be a content block (an object with a "type")'),
});

/**
 * The message for an unknown `type` of a discriminated union: names the known ones and the likely one.
 * Other union failures (not an object) get `otherwise`.
 */
export function discriminatorError(what: string, known: readonly string[], otherwise: string) {
  return (issue: { code?: string; input?: unknown; note?: string }) => {
    if (issue.code === 'invalid_union' && issue.note === 'No matching discriminator' && isPlainObject(issue.input)) {
      const type = issue.input['type'];
      const list = known.length <= 6 ? known.join(', ') : `${known.slice(0, 6).join(', ')} and ${known.length - 6} more`;
      if (type === undefined) return `is required: one of ${list}`;
      const hint = typeof type === 'string' ? didYouMean(type, known) : '';
      return `is not ${what} (got ${describeValue(type)}; known: ${list})${hint}`;
    }
    return expect(otherwise)(issue);
  };
}

/** Adds the issues of `schema` on `value` to `ctx`, under `path`. */
export function checkWith(schema: z.ZodType, value: unknown, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  const result = schema.safeParse(value);
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', path: [...path, ...issue.path], message: issue.message });
  }
}
