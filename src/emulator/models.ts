/**
 * The Models API of the emulator: GET /v1/models (newest first, `limit` 1–1000, `before_id` / `after_id`) and
 * GET /v1/models/{id}, answering ModelInfo objects as the SDK types them. The lineup is configuration; by default
 * the models documented late in 2026 (src/domain/models.ts).
 */
import { z } from 'zod';
import { fixedSampling, MODEL_LINEUP } from '../domain/models';

export const servedModelSchema = z.strictObject({
  id: z.string().min(1),
  lifecycle: z.enum(['active', 'deprecated', 'retired']).default('active'),
  maxTokens: z.number().int().positive().nullable().default(null),
  maxInputTokens: z.number().int().positive().nullable().default(null),
  retiresAt: z.string().nullable().default(null),
  /** capabilities.thinking.types.enabled.supported */
  manualThinking: z.boolean().default(true),
  /** Refuses non-default temperature, top_p and top_k (Sonnet 5 and later). */
  fixedSampling: z.boolean().default(false),
  /** Minimum cacheable prompt length in tokens; null: the documented table (prompt-cache.ts). */
  minCacheTokens: z.number().int().positive().nullable().default(null),
});
export type ServedModel = z.output<typeof servedModelSchema>;

export const DEFAULT_SERVED_MODELS: ServedModel[] = MODEL_LINEUP.map((m) => ({
  id: m.id,
  lifecycle: m.lifecycle,
  maxTokens: m.maxTokens,
  maxInputTokens: m.id.includes('-5') && !m.id.includes('-4-') ? 1_000_000 : 200_000,
  retiresAt: m.retiresAt,
  manualThinking: m.manualThinking ?? true,
  fixedSampling: fixedSampling(m.id),
  minCacheTokens: null,
}));

/** The served model `name` stands for: its id, or an undated alias / dated name of it. */
export function findServedModel(name: string, lineup: readonly ServedModel[]): ServedModel | undefined {
  return (
    lineup.find((m) => m.id === name) ??
    lineup.find((m) => /^(.*)-\d{8}$/.exec(m.id)?.[1] === name) ??
    lineup.find((m) => /^(.*)[-@]\d{8}$/.exec(name)?.[1] === m.id)
  );
}

const supported = (on: boolean) => ({ supported: on });

/** A ModelInfo as the API answers it. Release dates are not modelled: `created_at` keeps the lineup's order. */
export function toModelInfo(model: ServedModel, index: number): Record<string, unknown> {
  const created = new Date(Date.UTC(2026, 10, 1) - index * 86_400_000).toISOString().replace('.000Z', 'Z');
  const line = /^claude-([a-z]+)/.exec(model.id)?.[1] ?? null;
  const alive = model.lifecycle !== 'retired';
  return {
    type: 'model',
    id: model.id,
    display_name: model.id.replace(/^claude-/, 'Claude ').replace(/-/g, ' '),
    created_at: created,
    lifecycle: model.lifecycle,
    deprecated_at: model.lifecycle === 'active' ? null : created,
    retires_at: model.retiresAt,
    line: ['haiku', 'sonnet', 'opus', 'fable', 'mythos'].includes(line ?? '') ? line : null,
    max_input_tokens: model.maxInputTokens,
    max_tokens: model.maxTokens,
    capabilities: {
      batch: supported(alive),
      citations: supported(true),
      code_execution: supported(true),
      context_management: { clear_thinking_20251015: null, clear_tool_uses_20250919: null, compact_20260112: null, supported: false },
      effort: { high: supported(true), low: supported(true), max: supported(true), medium: supported(true), supported: true, xhigh: null },
      image_input: supported(true),
      pdf_input: supported(true),
      server_tools: { code_execution: supported(true), supported: true, web_search: supported(true) },
      structured_outputs: supported(true),
      thinking: {
        supported: true,
        types: {
          adaptive: supported(!model.manualThinking || model.fixedSampling),
          between_tools: supported(false),
          disabled: supported(true),
          enabled: supported(model.manualThinking),
        },
      },
    },
  };
}

export type ModelsPage = { ok: true; body: unknown } | { ok: false; status: 'invalid' | 'not_found'; message: string };

/** One page of GET /v1/models, in the lineup's order (newest first). */
export function listModels(lineup: readonly ServedModel[], query: URLSearchParams): ModelsPage {
  const raw = query.get('limit');
  const limit = raw === null ? 20 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return { ok: false, status: 'invalid', message: 'limit: Input should be an integer from 1 to 1000' };
  }
  const all = lineup.map(toModelInfo);
  const lifecycles = [...query.getAll('lifecycle'), ...query.getAll('lifecycle[]')];
  const shown = lifecycles.length === 0 ? all : all.filter((m) => lifecycles.includes(m['lifecycle'] as string));
  const afterId = query.get('after_id');
  const beforeId = query.get('before_id');
  let start = 0;
  let end = shown.length;
  if (afterId !== null) start = shown.findIndex((m) => m['id'] === afterId) + 1;
  if (beforeId !== null) end = Math.max(0, shown.findIndex((m) => m['id'] === beforeId));
  const page = beforeId !== null ? shown.slice(Math.max(start, end - limit), end) : shown.slice(start, start + limit);
  const firstIndex = page.length === 0 ? start : shown.indexOf(page[0]!);
  const hasMore = beforeId !== null ? firstIndex > 0 : firstIndex + page.length < shown.length;
  return {
    ok: true,
    body: { data: page, has_more: hasMore, first_id: (page[0]?.['id'] as string) ?? null, last_id: (page.at(-1)?.['id'] as string) ?? null },
  };
}

export function retrieveModel(lineup: readonly ServedModel[], id: string): ModelsPage {
  const found = findServedModel(id, lineup);
  if (found === undefined) return { ok: false, status: 'not_found', message: `model: ${id}` };
  return { ok: true, body: toModelInfo(found, lineup.indexOf(found)) };
}
