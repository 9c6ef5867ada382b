// Which models exist and what each allows: the account's Models API when Sluice has read it (once per job), else
// the lineup below. Plain JSON, so a catalog can cross a Temporal boundary.

export type ModelLifecycle = 'active' | 'deprecated' | 'retired';

/** What Sluice needs to know of one model (from a Models API ModelInfo, or the lineup below). */
export interface ModelFacts {
  id: string;
  lifecycle: ModelLifecycle;
  /** Largest max_tokens; null when unknown. */
  maxTokens: number | null;
  /** RFC 3339: when the model retires (retired: when it did); null when none is scheduled. */
  retiresAt: string | null;
  /** capabilities.thinking.types.enabled: may a request use manual extended thinking? null when unknown. */
  manualThinking: boolean | null;
  /** capabilities.batch; null when unknown. */
  batch: boolean | null;
}

export interface ModelCatalog {
  /** 'account': read from the Models API (unknown names are refused); 'lineup': the built-in facts below. */
  source: 'account' | 'lineup';
  models: ModelFacts[];
}

/** The fields of the SDK's ModelInfo that Sluice reads (declared here: domain code imports no SDK). */
export interface ModelInfoLike {
  id: string;
  lifecycle?: ModelLifecycle | null;
  max_tokens?: number | null;
  retires_at?: string | null;
  capabilities?: {
    batch?: { supported: boolean } | null;
    thinking?: { types?: { enabled?: { supported: boolean } | null } | null } | null;
  } | null;
}

export function catalogFromModelInfos(infos: readonly ModelInfoLike[]): ModelCatalog {
  return {
    source: 'account',
    models: infos.map((m) => ({
      id: m.id,
      lifecycle: m.lifecycle ?? 'active',
      maxTokens: m.max_tokens ?? null,
      retiresAt: m.retires_at ?? null,
      manualThinking: m.capabilities?.thinking?.types?.enabled?.supported ?? null,
      batch: m.capabilities?.batch?.supported ?? null,
    })),
  };
}

const K = 1_000;
const fact = (id: string, maxTokens: number, manualThinking: boolean, lifecycle: ModelLifecycle = 'active', retiresAt: string | null = null): ModelFacts => ({
  id,
  lifecycle,
  maxTokens,
  retiresAt,
  manualThinking,
  batch: lifecycle !== 'retired',
});

/**
 * The lineup as documented late in 2026 (see docs/models.md): 128K output on the 5.x models, 64K on Haiku 4.5;
 * manual extended thinking refused on 5.x. Used when the Models API has not been read, and served by the emulator.
 */
export const MODEL_LINEUP: readonly ModelFacts[] = [
  fact('claude-fable-5-2', 128 * K, false),
  fact('claude-fable-5-1', 128 * K, false),
  fact('claude-opus-5-5', 128 * K, false),
  fact('claude-sonnet-5-5', 128 * K, false),
  fact('claude-haiku-5-5', 128 * K, false),
  fact('claude-opus-5', 128 * K, false),
  fact('claude-sonnet-5', 128 * K, false),
  fact('claude-opus-4-8', 128 * K, true),
  fact('claude-opus-4-7', 128 * K, true),
  fact('claude-opus-4-6', 128 * K, true),
  fact('claude-sonnet-4-6', 64 * K, true),
  fact('claude-opus-4-5', 64 * K, true),
  fact('claude-haiku-4-5', 64 * K, true),
  fact('claude-sonnet-4-5', 64 * K, true, 'retired', '2026-11-30T00:00:00Z'),
  fact('claude-opus-4-1', 32 * K, true, 'retired', '2026-01-05T00:00:00Z'),
  fact('claude-opus-4', 32 * K, true, 'retired', '2026-01-05T00:00:00Z'),
];

export const LINEUP_CATALOG: ModelCatalog = { source: 'lineup', models: [...MODEL_LINEUP] };

/**
 * The facts for `model`: its exact id, or the dated id it is an alias of ("claude-haiku-4-5" for
 * "claude-haiku-4-5-20251001"), or the alias of a dated name the catalog lists undated.
 */
export function findModel(model: string, catalog: ModelCatalog): ModelFacts | undefined {
  const exact = catalog.models.find((m) => m.id === model);
  if (exact) return exact;
  const dated = /^(.*)[-@](\d{8})$/.exec(model);
  return catalog.models.find((m) => m.id.startsWith(`${model}-`) && /^\d{8}$/.test(m.id.slice(model.length + 1))) ??
    (dated ? catalog.models.find((m) => m.id === dated[1]) : undefined);
}

/**
 * The generation of a model from its id ("claude-sonnet-5-5" → 5, "claude-haiku-4-5-20251001" → 4);
 * undefined when the id has none. Lines new with the 5.x generation (fable, mythos) count as 5.
 */
export function modelGeneration(model: string): number | undefined {
  const m = /^claude-([a-z]+)-(\d+)(?:-|$|@)/.exec(model);
  if (m) return Number(m[2]);
  if (/^claude-(fable|mythos)(-|$)/.test(model)) return 5;
  return undefined;
}

/**
 * Sonnet 5 and later accept only the default sampling: a temperature other than 1, or any top_p / top_k, is a
 * 400 from the API. Older models accept the documented ranges.
 */
export function fixedSampling(model: string): boolean {
  return (modelGeneration(model) ?? 0) >= 5;
}
