/**
 * Encrypts every payload Temporal stores (workflow and activity inputs and results, memos, summaries) with
 * AES-256-GCM. The whole original payload (its metadata included) is encrypted; the stored payload says only
 * `encoding: binary/encrypted` and which key encrypted it, so keys can rotate. Data layout:
 * 12-byte IV ‖ ciphertext ‖ 16-byte tag, the format of Temporal's encryption samples.
 *
 * Payloads that are not encrypted pass through decode unchanged: histories written before encryption was turned on
 * stay readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SluiceError } from '../domain/errors';
import type { CodecKey } from './keys';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_ENCODING = 'encoding';
export const METADATA_KEY_ID = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload that cannot be decrypted: unknown key id, wrong key, or damaged data. */
export class CodecError extends SluiceError {
  override name = 'CodecError';
  constructor(
    message: string,
    readonly keyId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly encryptWith: CodecKey;

  /** `keys[0]` encrypts; all of them decrypt. */
  constructor(keys: readonly CodecKey[]) {
    const first = keys[0];
    if (!first) throw new SluiceError('AesGcmCodec needs at least one key');
    this.encryptWith = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The id of the key new payloads are encrypted with. */
  get encryptionKeyId(): string {
    return this.encryptWith.id;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((p) => this.encrypt(p)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // Errors become rejections, as callers of a PayloadCodec expect.
    return Promise.resolve().then(() => payloads.map((p) => this.decrypt(p)));
  }

  private encrypt(payload: Payload): Payload {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.encryptWith.key, iv);
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING]: Buffer.from(ENCODING_ENCRYPTED),
        [METADATA_KEY_ID]: Buffer.from(this.encryptWith.id),
      },
      data,
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING];
    if (!encoding || Buffer.from(encoding).toString() !== ENCODING_ENCRYPTED) return payload;
    const idBytes = payload.metadata?.[METADATA_KEY_ID];
    const keyId = idBytes ? Buffer.from(idBytes).toString() : undefined;
    if (keyId === undefined) throw new CodecError('An encrypted payload names no encryption key id', undefined);
    const key = this.byId.get(keyId);
    if (!key) {
      throw new CodecError(
        `A payload is encrypted with key "${keyId}", which is not among the configured keys (${[...this.byId.keys()].join(', ')}): add it to SLUICE_CODEC_KEYS`,
        keyId,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new CodecError(`An encrypted payload (key "${keyId}") is truncated`, keyId);
    const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch (err) {
      throw new CodecError(
        `Cannot decrypt a payload with key "${keyId}": authentication failed (a different key under the same id, or damaged data)`,
        keyId,
        { cause: err },
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
