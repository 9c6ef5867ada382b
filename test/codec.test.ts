// The AES-GCM payload codec: round trip, wrong keys fail clearly, key rotation, and the SLUICE_CODEC_KEYS format.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, CodecError, codecFromEnv, dataConverterFromEnv, ENCODING_ENCRYPTED, parseCodecKeys } from '../src/codec';
import { loadConfig } from '../src/config';
import { ConfigError } from '../src/domain/errors';

const keyText = (id: string, key = randomBytes(32)) => `${id}:${key.toString('base64')}`;
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString();

function samplePayloads(): Payload[] {
  return [
    defaultPayloadConverter.toPayload({ jobId: 'sluice-job-secret-42', batchId: 'msgbatch_01SECRET', counts: [1, 2, 3] }),
    defaultPayloadConverter.toPayload('a plain string'),
    defaultPayloadConverter.toPayload(null),
    defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])),
  ];
}

test('encode then decode gives the payloads back, metadata included; the stored form hides everything', async () => {
  const codec = new AesGcmCodec(parseCodecKeys(keyText('k1')));
  const payloads = samplePayloads();
  const encoded = await codec.encode(payloads);
  assert.equal(encoded.length, payloads.length);
  for (const p of encoded) {
    assert.equal(text(p.metadata?.encoding), ENCODING_ENCRYPTED);
    assert.equal(text(p.metadata?.['encryption-key-id']), 'k1');
    assert.deepEqual(Object.keys(p.metadata ?? {}).sort(), ['encoding', 'encryption-key-id']);
    assert.ok(!text(p.data).includes('secret') && !text(p.data).includes('SECRET') && !text(p.data).includes('json/plain'));
  }
  const decoded = await codec.decode(encoded);
  assert.deepEqual(
    decoded.map((p) => defaultPayloadConverter.fromPayload(p)),
    payloads.map((p) => defaultPayloadConverter.fromPayload(p)),
  );
  assert.deepEqual(
    decoded.map((p) => text(p.metadata?.encoding)),
    payloads.map((p) => text(p.metadata?.encoding)),
  );
  assert.deepEqual(await codec.encode([]), []);
});

test('the same payload encrypts differently each time (random IV)', async () => {
  const codec = new AesGcmCodec(parseCodecKeys(keyText('k1')));
  const [p] = samplePayloads();
  const [a] = await codec.encode([p!]);
  const [b] = await codec.encode([p!]);
  assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
});

test('payloads that are not encrypted pass through decode (histories from before encryption)', async () => {
  const codec = new AesGcmCodec(parseCodecKeys(keyText('k1')));
  const plain = samplePayloads();
  assert.deepEqual(await codec.decode(plain), plain);
});

test('a wrong key under the same id fails clearly; so does an unknown id and damaged data', async () => {
  const writer = new AesGcmCodec(parseCodecKeys(keyText('k1')));
  const encoded = await writer.encode(samplePayloads());

  const wrongKey = new AesGcmCodec(parseCodecKeys(keyText('k1')));
  await assert.rejects(wrongKey.decode(encoded), (err: unknown) => {
    assert.ok(err instanceof CodecError);
    assert.equal(err.keyId, 'k1');
    assert.match(err.message, /Cannot decrypt a payload with key "k1": authentication failed/);
    return true;
  });

  const otherIds = new AesGcmCodec(parseCodecKeys(`${keyText('k2')},${keyText('k3')}`));
  await assert.rejects(otherIds.decode(encoded), (err: unknown) => {
    assert.ok(err instanceof CodecError);
    assert.match(err.message, /encrypted with key "k1", which is not among the configured keys \(k2, k3\)/);
    return true;
  });

  const damaged = { ...encoded[0]!, data: Buffer.from(encoded[0]!.data!) };
  damaged.data[20] = damaged.data[20]! ^ 0xff;
  await assert.rejects(writer.decode([damaged]), /authentication failed/);
  await assert.rejects(writer.decode([{ ...encoded[0]!, data: new Uint8Array(5) }]), /truncated/);
});

test('rotation: the first key encrypts, older keys still decrypt', async () => {
  const oldKey = keyText('2025-01');
  const newKey = keyText('2026-06');
  const before = new AesGcmCodec(parseCodecKeys(oldKey));
  const encodedBefore = await before.encode(samplePayloads());

  const rotated = new AesGcmCodec(parseCodecKeys(`${newKey},${oldKey}`));
  assert.equal(rotated.encryptionKeyId, '2026-06');
  const decoded = await rotated.decode(encodedBefore);
  assert.deepEqual(
    decoded.map((p) => defaultPayloadConverter.fromPayload(p)),
    samplePayloads().map((p) => defaultPayloadConverter.fromPayload(p)),
  );
  const encodedAfter = await rotated.encode(samplePayloads());
  assert.ok(encodedAfter.every((p) => text(p.metadata?.['encryption-key-id']) === '2026-06'));
  // A history mixing both keys decodes in one call.
  assert.equal((await rotated.decode([...encodedBefore, ...encodedAfter])).length, 8);
  // Once the old key is dropped, its payloads no longer decode (and say which key they need).
  await assert.rejects(new AesGcmCodec(parseCodecKeys(newKey)).decode(encodedBefore), /key "2025-01"/);
});

test('SLUICE_CODEC_KEYS: bad entries are named, key material never shown', () => {
  const material = randomBytes(32).toString('base64');
  const cases: [string, RegExp][] = [
    ['', /holds no key/],
    [material, /entry 1 is not id:base64key/],
    [`k1:${randomBytes(16).toString('base64')}`, /must be 32 bytes \(AES-256\), not 16/],
    [`k1:not base64!`, /not base64/],
    [`bad id:${material}`, /key id must be/],
    [`k1:${material},k1:${material}`, /k1 appears twice/],
    [`k1:${material},broken`, /entry 2 is not id:base64key/],
  ];
  for (const [value, reason] of cases) {
    assert.throws(
      () => parseCodecKeys(value),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, value);
        assert.equal(err.field, 'SLUICE_CODEC_KEYS');
        assert.match(err.message, reason);
        assert.ok(!err.message.includes(material), 'no key material in the message');
        return true;
      },
    );
  }
  // The worker's configuration refuses the same values, naming the variable.
  assert.throws(() => loadConfig({ SLUICE_CODEC_KEYS: `k1:${randomBytes(8).toString('base64')}` }), /SLUICE_CODEC_KEYS: .*32 bytes/);
  assert.equal(loadConfig({ SLUICE_CODEC_KEYS: ` ${keyText('a')} , ${keyText('b')} ` }).SLUICE_CODEC_KEYS !== undefined, true);
});

test('dataConverterFromEnv: a codec when SLUICE_CODEC_KEYS is set, Temporal defaults otherwise', () => {
  assert.equal(dataConverterFromEnv({}), undefined);
  assert.equal(dataConverterFromEnv({ SLUICE_CODEC_KEYS: '' }), undefined);
  const converter = dataConverterFromEnv({ SLUICE_CODEC_KEYS: keyText('k9') });
  assert.equal(converter?.payloadCodecs?.length, 1);
  assert.ok(converter.payloadCodecs[0] instanceof AesGcmCodec);
  assert.equal(codecFromEnv({ SLUICE_CODEC_KEYS: keyText('k9') })?.encryptionKeyId, 'k9');
});
