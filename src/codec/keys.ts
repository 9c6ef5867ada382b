/**
 * Encryption keys for the payload codec, from `SLUICE_CODEC_KEYS=id1:base64key,id2:base64key`. The first key
 * encrypts; every key decrypts, so a key can be rotated by putting the new one first and keeping the old ones as
 * long as histories encrypted with them are kept. Messages name the variable and the entry, never key material.
 *
 *   node -e "console.log('k' + Date.now() + ':' + require('crypto').randomBytes(32).toString('base64'))"
 */
import { ConfigError } from '../domain/errors';

export const CODEC_KEYS_VARIABLE = 'SLUICE_CODEC_KEYS';
/** AES-256: keys are 32 bytes. */
export const KEY_BYTES = 32;

export interface CodecKey {
  /** Stored in each payload's metadata, so the right key is found at decode time. */
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export function parseCodecKeys(text: string, variable = CODEC_KEYS_VARIABLE): CodecKey[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (entries.length === 0) throw new ConfigError(variable, 'holds no key: expected id:base64key[,id:base64key...]');
  const keys: CodecKey[] = [];
  entries.forEach((entry, i) => {
    const where = `entry ${i + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new ConfigError(variable, `${where} is not id:base64key`);
    const id = entry.slice(0, colon);
    const material = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      throw new ConfigError(variable, `${where}: the key id must be 1-64 letters, digits, '.', '_' or '-'`);
    }
    if (!BASE64.test(material)) throw new ConfigError(variable, `${where} (key ${id}): the key is not base64`);
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new ConfigError(variable, `${where} (key ${id}): the key must be ${KEY_BYTES} bytes (AES-256), not ${key.length}`);
    }
    if (keys.some((k) => k.id === id)) throw new ConfigError(variable, `key id ${id} appears twice`);
    keys.push({ id, key });
  });
  return keys;
}
