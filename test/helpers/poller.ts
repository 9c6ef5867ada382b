/** The account poller a test's worker uses: its id (from the emulator's endpoint and key, as the worker builds it). */
import Anthropic from '@anthropic-ai/sdk';
import type { Client } from '@temporalio/client';
import { pollerAccountOf } from '../../src/activities/account-poll';
import { pollerQuery, type PollerView } from '../../src/contracts/messages';
import { pollerWorkflowId } from '../../src/contracts/workflow-ids';
import type { EmulatorHandle } from '../../src/emulator';

export function pollerIdOf(emulator: Pick<EmulatorHandle, 'apiKey' | 'url'>): string {
  return pollerWorkflowId(pollerAccountOf(new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url })));
}

export function pollerView(client: Client, pollerId: string): Promise<PollerView> {
  return client.workflow.getHandle(pollerId).query(pollerQuery);
}
