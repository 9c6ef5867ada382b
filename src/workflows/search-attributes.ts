/**
 * Search attributes Sluice upserts on its workflows, so a user can filter jobs in the Web UI
 * (e.g. `SluicePhase = "polling" AND SluicePriority <= 2`). The dev stack registers them at start.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SluiceJobName = defineSearchAttributeKey('SluiceJobName', SearchAttributeType.KEYWORD);
export const SluicePhase = defineSearchAttributeKey('SluicePhase', SearchAttributeType.KEYWORD);
export const SluicePriority = defineSearchAttributeKey('SluicePriority', SearchAttributeType.INT);
export const SluiceDeadline = defineSearchAttributeKey('SluiceDeadline', SearchAttributeType.DATETIME);
export const SluiceSlaAtRisk = defineSearchAttributeKey('SluiceSlaAtRisk', SearchAttributeType.BOOL);

export const sluiceSearchAttributes = [SluiceJobName, SluicePhase, SluicePriority, SluiceDeadline, SluiceSlaAtRisk];

/** `Name=Type` pairs as `temporal server start-dev --search-attribute` expects them. */
export function searchAttributeFlags(): string[] {
  const cliType: Record<string, string> = {
    [SearchAttributeType.KEYWORD]: 'Keyword',
    [SearchAttributeType.INT]: 'Int',
    [SearchAttributeType.DATETIME]: 'Datetime',
    [SearchAttributeType.BOOL]: 'Bool',
  };
  return sluiceSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${cliType[key.type]}`]);
}
