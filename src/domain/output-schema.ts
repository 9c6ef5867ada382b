/**
 * JSON Schemas for output checks, through ajv (the most used JSON Schema validator for JavaScript, drafts 06, 07,
 * 2019-09 and 2020-12). Checked once at the edge (`sluice run --schema FILE`, `startJob({ outputSchema })`): a file
 * that is not JSON, a schema that is not valid JSON Schema (named by the JSON pointer into the schema), a keyword
 * ajv does not know (a typo such as "requird" would silently accept everything) or a schema no value satisfies is a
 * ConfigError naming the file. The collect activity compiles the same schema again to check answers.
 *
 * Not imported by workflow code: ajv compiles schemas to functions, which belongs in activities and the client.
 */
import { Ajv, type ErrorObject, type Options } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormatsModule from 'ajv-formats';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { ConfigError } from './errors';
import { acceptsNothing, type SchemaCheck } from './output-check';

/** A schema file bigger than this is refused: it is read by the client and by every collect. */
export const MAX_SCHEMA_BYTES = 1024 * 1024;

const OPTIONS: Options = {
  allErrors: true,
  // Unknown keywords and formats are errors (they are typos more often than not); the type-coupling rules of
  // strict mode are not, because valid schemas written for other validators break them.
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  logger: false,
};

type AnyAjv = Ajv | Ajv2019 | Ajv2020;

// ajv-formats is CommonJS with a default export; under tsx and tsc it arrives as the function or as { default }.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: AnyAjv) => AnyAjv;

/** The ajv instance for the draft the schema names in `$schema` (draft-07 when it names none). */
function ajvFor(schema: unknown, where: string): AnyAjv {
  const declared = schema !== null && typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined;
  const draft = typeof declared === 'string' ? declared : '';
  let ajv: AnyAjv;
  if (draft.includes('2020-12')) ajv = new Ajv2020(OPTIONS);
  else if (draft.includes('2019-09')) ajv = new Ajv2019(OPTIONS);
  else if (draft === '' || draft.includes('draft-07')) ajv = new Ajv(OPTIONS);
  else if (draft.includes('draft-06')) {
    ajv = new Ajv(OPTIONS);
    ajv.addMetaSchema(draft06);
  } else {
    throw new ConfigError(where, `/$schema: ${JSON.stringify(declared)} is not a draft this checker knows (draft-06, draft-07, 2019-09, 2020-12)`);
  }
  addFormats(ajv);
  return ajv;
}

/** Parses a schema file's text; `where` names it in errors ("--schema answer.schema.json"). */
export function parseSchemaText(text: string, where: string): unknown {
  if (Buffer.byteLength(text) > MAX_SCHEMA_BYTES) throw new ConfigError(where, `is larger than ${MAX_SCHEMA_BYTES} bytes`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(where, `is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Compiles a schema for checking answers; throws a ConfigError naming `where` and the JSON pointer of the fault. */
export function compileSchema(schema: unknown, where: string): SchemaCheck {
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    throw new ConfigError(where, '(the document): a JSON Schema is an object or a boolean');
  }
  const nothing = acceptsNothing(schema);
  if (nothing) throw new ConfigError(where, `disagrees with --expect json: ${nothing}`);
  const ajv = ajvFor(schema, where);
  if (!ajv.validateSchema(schema)) {
    throw new ConfigError(where, `is not valid JSON Schema: ${schemaErrors(ajv.errors ?? [])}`);
  }
  let validate;
  try {
    validate = ajv.compile(schema as object);
  } catch (err) {
    const message = (err as Error).message.replace(/^strict mode: /, '');
    const keyword = /unknown keyword:? "([^"]+)"/.exec(message)?.[1];
    const at = /at path "#([^"]*)"/.exec(message)?.[1] ?? (keyword === undefined ? undefined : pointerOfKey(schema, keyword));
    throw new ConfigError(where, `is not a schema this checker can use: ${at === undefined ? '' : `${at}: `}${message}`, { cause: err });
  }
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => ({ instancePath: e.instancePath, message: e.message ?? e.keyword })));
}

function schemaErrors(errors: readonly ErrorObject[]): string {
  // ajv reports each failed branch of the meta-schema; the first error at each pointer says it best.
  const byPointer = new Map<string, string>();
  for (const e of errors) if (!byPointer.has(e.instancePath)) byPointer.set(e.instancePath, e.message ?? e.keyword);
  return [...byPointer].map(([p, m]) => `${p || '(the document)'}: ${m}`).join('; ');
}

/** The JSON pointer of the first place `key` is used as a key in the schema (for unknown keywords). */
function pointerOfKey(value: unknown, key: string, at = ''): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  for (const [k, v] of entries) {
    const here = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (k === key && !Array.isArray(value)) return here;
    const deeper = pointerOfKey(v, key, here);
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}
