// Small zod helpers shared by the request schemas: messages that say what was expected and what came
// (never echoing free text), and objects that name each unknown field with a "did you mean".
import { z } from 'zod';
import { didYouMean } from './did-you-mean';
import { describeValue } from './format';

/** A zod error message: "is required" when absent, else the expectation and what came. */
export function expect(expectation: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? 'is required' : `${expectation} (got ${describeValue(issue.input)})`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An object with exactly the fields of `shape`: each other field is an issue at its own path,
 * "is not a known field of <what>" plus a suggestion. Own "__proto__" keys from JSON.parse count as fields.
 */
export function closedObject<S extends z.core.$ZodLooseShape>(shape: S, what: string, expectation: string) {
  const known = Object.keys(shape);
  const list = known.map((k) => `"${k}"`).join(', ');
  return z.looseObject(shape, { error: expect(expectation) }).superRefine(
    (value, ctx) => {
      for (const key of Object.keys(value)) {
        if (known.includes(key)) continue;
        ctx.addIssue({ code: 'custom', path: [key], message: `is not a known field of ${what} (known: ${list})${didYouMean(key, known)}` });
      }
    },
    { when: (payload) => isPlainObject(payload.value) },
  );
}

export const nonEmptyString = (expectation: string) =>
  z.string({ error: expect(expectation) }).min(1, { error: expect(expectation) });

export const cacheControl = closedObject(
  {
    type: z.literal('ephemeral', { error: expect('must be "ephemeral"') }),
    ttl: z.enum(['5m', '1h'], { error: expect('must be "5m" or "1h"') }).optional(),
  },
  'cache_control',
  'must be an object like {"type": "ephemeral"}',
).nullable();
