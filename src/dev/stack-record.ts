/**
 * What a running `sluice dev` records under the state directory: the addresses it serves on, so `sluice run` in
 * another terminal uses the ports in use (Temporal, Web UI links) without exports.
 */
export const DEV_STACK_FILE = 'dev-stack.json';

export interface DevStackRecord {
  temporalAddress: string;
  webUi?: string;
  namespace: string;
  pid: number;
}
