/**
 * Reads the account's Models API once (GET /v1/models, every page) into a plain ModelCatalog. Shared by the client
 * (before a job starts) and the plan activity (once per job, where the API key is).
 */
import type Anthropic from '@anthropic-ai/sdk';
import { anthropicSdk } from './sdk';
import { catalogFromModelInfos, type ModelCatalog, type ModelInfoLike } from '../domain/models';

export async function readModelCatalog(anthropic: Anthropic): Promise<ModelCatalog> {
  const infos: ModelInfoLike[] = [];
  for await (const model of anthropic.models.list({ limit: 1000 })) infos.push(model);
  return catalogFromModelInfos(infos);
}

/**
 * True when the Models API refused the call for good (a proxy without /v1/models, a key without the permission, a
 * bad key): Sluice then checks against its built-in lineup instead of stopping there, and a bad key is reported by
 * the call that needs it (the create), as before. Rate limits, 5xx and lost connections are worth a retry.
 */
export function modelsApiUnavailable(err: unknown): boolean {
  if (!(err instanceof anthropicSdk().APIError) || typeof err.status !== 'number') return false;
  return err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status);
}

/**
 * The account's catalog when this process has an API key (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL), else undefined.
 * Any failure also gives undefined: the plan activity reads the catalog again where the workers' key is.
 */
export async function modelCatalogFromEnv(config: { ANTHROPIC_API_KEY?: string; ANTHROPIC_BASE_URL?: string }): Promise<ModelCatalog | undefined> {
  if (!config.ANTHROPIC_API_KEY) return undefined;
  try {
    const Sdk = anthropicSdk();
    return await readModelCatalog(new Sdk({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL, maxRetries: 1, timeout: 10_000 }));
  } catch {
    return undefined;
  }
}
