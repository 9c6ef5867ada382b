// Rules that depend on the model a request names: does the account have it, has it retired, how many output
// tokens it allows, and what Sonnet 5 and later refuse (non-default sampling, manual extended thinking).
import { didYouMean } from './did-you-mean';
import { describeValue, formatInteger } from './format';
import { findModel, fixedSampling, type ModelCatalog } from './models';
import type { ParamIssue } from './request-params';
import { isPlainObject } from './request-zod';

/**
 * The issues of `params` (already valid in shape) for its model. With an 'account' catalog an unknown name is
 * refused; with the built-in lineup it is let through (the lineup may be older than the account).
 */
export function modelIssues(params: Record<string, unknown>, catalog: ModelCatalog): ParamIssue[] {
  const name = params['model'];
  if (typeof name !== 'string') return [];
  const issues: ParamIssue[] = [];
  const facts = findModel(name, catalog);
  if (facts === undefined) {
    if (catalog.source === 'account') {
      const usable = catalog.models.filter((m) => m.lifecycle !== 'retired').map((m) => m.id);
      issues.push({ path: ['model'], reason: `is not a model this account can use (got ${describeValue(name)})${didYouMean(name, usable)}` });
      return issues;
    }
  } else if (facts.lifecycle === 'retired') {
    const when = facts.retiresAt === null ? '' : ` on ${facts.retiresAt.slice(0, 10)}`;
    issues.push({ path: ['model'], reason: `${describeValue(name)} reached its end of life${when} and is retired: requests naming it fail` });
    return issues;
  } else if (facts.batch === false) {
    issues.push({ path: ['model'], reason: `${describeValue(name)} is not available in the Message Batches API` });
  }

  const maxTokens = params['max_tokens'];
  if (facts?.maxTokens != null && typeof maxTokens === 'number' && maxTokens > facts.maxTokens) {
    issues.push({ path: ['max_tokens'], reason: `must be at most ${formatInteger(facts.maxTokens)} for ${name} (got ${formatInteger(maxTokens)})` });
  }

  const thinking = params['thinking'];
  const manualThinking = facts?.manualThinking ?? !fixedSampling(name);
  if (isPlainObject(thinking) && thinking['type'] === 'enabled' && !manualThinking) {
    issues.push({
      path: ['thinking', 'type'],
      reason: `"enabled" (manual extended thinking) is refused by ${name}: use {"type": "adaptive"} or leave thinking out`,
    });
  }
  if (fixedSampling(name)) {
    const temperature = params['temperature'];
    if (temperature !== undefined && temperature !== 1) {
      issues.push({ path: ['temperature'], reason: `is refused by ${name}, which takes only the default (got ${describeValue(temperature)}): leave it out` });
    }
    for (const key of ['top_p', 'top_k'] as const) {
      if (params[key] !== undefined) {
        issues.push({ path: [key], reason: `is refused by ${name}, which takes only the default sampling (got ${describeValue(params[key])}): leave it out` });
      }
    }
  }
  return issues;
}
