/**
 * The official SDK, loaded when first used. The CLI imports every command's module at start, and most commands
 * (status, results, queue, intake) never call the API: loading the SDK took about a third of a second of each start.
 * Worker code (activities) imports the SDK as usual.
 */
import type AnthropicSdk from '@anthropic-ai/sdk';

let loaded: typeof AnthropicSdk | undefined;

export function anthropicSdk(): typeof AnthropicSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a deferred load, for the CLI's start-up time
  loaded ??= (require('@anthropic-ai/sdk') as { default: typeof AnthropicSdk }).default;
  return loaded;
}
