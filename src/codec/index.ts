/**
 * Payload encryption, configured by SLUICE_CODEC_KEYS. Workers and clients of one namespace must use the same
 * data converter: a worker without the keys cannot read an encrypted job, a client without them cannot read its
 * result.
 *
 *   const worker = await Worker.create({ ..., dataConverter: dataConverterFromEnv() });
 *   const client = new Client({ connection, dataConverter: dataConverterFromEnv() });
 */
import type { DataConverter } from '@temporalio/common';
import { ConfigError } from '../domain/errors';
import { AesGcmCodec } from './aes-gcm-codec';
import { CODEC_KEYS_VARIABLE, parseCodecKeys } from './keys';

/** The codec SLUICE_CODEC_KEYS describes, or undefined when it is unset or empty. Throws a ConfigError when bad. */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmCodec | undefined {
  const text = env[CODEC_KEYS_VARIABLE];
  if (text === undefined || text.trim() === '') return undefined;
  return new AesGcmCodec(parseCodecKeys(text));
}

/** `{ payloadCodecs: [AES-GCM codec] }` when SLUICE_CODEC_KEYS is set; undefined (Temporal's default) otherwise. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}

/** Like codecFromEnv, for commands that cannot work without keys (the codec server). */
export function requireCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmCodec {
  const codec = codecFromEnv(env);
  if (!codec) throw new ConfigError(CODEC_KEYS_VARIABLE, 'is not set: the codec server needs the keys the workers use');
  return codec;
}

export { AesGcmCodec, CodecError, ENCODING_ENCRYPTED } from './aes-gcm-codec';
export { parseCodecKeys, type CodecKey } from './keys';
