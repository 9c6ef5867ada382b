/**
 * Whether the worker's connection to Temporal gzips its gRPC messages. The SDK gzips by default, which saves bytes
 * on a network link but, on the same host, only costs CPU on both ends: compressing and inflating every poll answer,
 * activity completion and workflow task, about a twentieth of the dev server's CPU in `npm run bench`.
 */
export type GrpcCompressionSetting = 'auto' | 'gzip' | 'none';
export type GrpcCompressionCodec = 'gzip' | 'none';

/** `auto`: no compression to a loopback address (127.0.0.0/8, localhost, ::1), gzip to anything else. */
export function grpcCompressionFor(setting: GrpcCompressionSetting, address: string): GrpcCompressionCodec {
  if (setting !== 'auto') return setting;
  return isLoopback(hostOf(address)) ? 'none' : 'gzip';
}

function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
