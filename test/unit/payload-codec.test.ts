// The codec that encrypts what Temporal stores: round trip, rotation, tampering, the keys' format.
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  ENCRYPTED_ENCODING,
  EncryptingPayloadCodec,
  decryptPayloadsIn,
  newPayloadKeys,
  parsePayloadKeys,
  payloadCodecFromEnv,
} from '../../infra/payload-codec';

const CALLER = { from: '+15550100001', name: 'Ada Lovelace', said: 'my card is 4111 1111' };
const codecOf = (spec: string) => new EncryptingPayloadCodec(parsePayloadKeys(spec));
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('EncryptingPayloadCodec', () => {
  const plain = defaultPayloadConverter.toPayload(CALLER);

  it('encrypts: nothing of the value, its encoding or its type is readable, and it decrypts back', async () => {
    const codec = codecOf(newPayloadKeys('k1'));
    const [sealed] = await codec.encode([plain]);
    assert.equal(text(sealed!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(sealed!.metadata!['encryption-key-id']), 'k1');
    const raw = Buffer.from(sealed!.data!).toString('latin1');
    for (const v of [...Object.values(CALLER), 'json/plain']) assert.ok(!raw.includes(v), v);
    const [opened] = await codec.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), CALLER);
  });

  it('the same value twice is two different ciphertexts (a fresh nonce each time)', async () => {
    const codec = codecOf(newPayloadKeys('k1'));
    const [a, b] = await codec.encode([plain, plain]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  it('rotation: the first key encrypts, every key decrypts; a dropped key is named', async () => {
    const old = newPayloadKeys('2026-01');
    const next = newPayloadKeys('2026-06');
    const [before] = await codecOf(old).encode([plain]);
    const rotated = codecOf(`${next},${old}`);
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([before!]))[0]!), CALLER); // prettier-ignore
    const [after] = await rotated.encode([plain]);
    assert.equal(text(after!.metadata!['encryption-key-id']), '2026-06');
    await assert.rejects(codecOf(next).decode([before!]), /key "2026-01", which PAYLOAD_ENCRYPTION_KEYS does not hold/); // prettier-ignore
  });

  it('a changed byte or another key with the same id fails to decrypt instead of returning garbage', async () => {
    const codec = codecOf(newPayloadKeys('k1'));
    const [sealed] = await codec.encode([plain]);
    const data = Buffer.from(sealed!.data!);
    data[20] = data[20]! ^ 1;
    await assert.rejects(codec.decode([{ ...sealed!, data }]), /auth|decrypt/i);
    await assert.rejects(codecOf(newPayloadKeys('k1')).decode([sealed!]), /auth|decrypt/i);
  });

  it('plaintext payloads (histories from before encryption) pass through', async () => {
    const [same] = await codecOf(newPayloadKeys('k1')).decode([plain]);
    assert.equal(same, plain);
  });

  it('decrypts every payload inside a history-shaped object, in place', async () => {
    const codec = codecOf(newPayloadKeys('k1'));
    const [input] = await codec.encode([plain]);
    const [result] = await codec.encode([defaultPayloadConverter.toPayload('Hello Ada')]);
    const history = {
      events: [
        { workflowExecutionStartedEventAttributes: { input: { payloads: [input] } } },
        { activityTaskCompletedEventAttributes: { result: { payloads: [result] } } },
      ],
    };
    await decryptPayloadsIn(history, codec);
    const [started, completed] = history.events;
    assert.deepEqual(defaultPayloadConverter.fromPayload(started!.workflowExecutionStartedEventAttributes!.input.payloads[0]!), CALLER); // prettier-ignore
    assert.equal(defaultPayloadConverter.fromPayload(completed!.activityTaskCompletedEventAttributes!.result.payloads[0]!), 'Hello Ada'); // prettier-ignore
  });
});

describe('PAYLOAD_ENCRYPTION_KEYS', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('is id:base64 of 32 bytes, comma-separated', () => {
    const keys = parsePayloadKeys(`a:${key}, b:${key}`);
    assert.deepEqual(keys.map((k) => [k.id, k.key.length]), [['a', 32], ['b', 32]]); // prettier-ignore
  });

  it('refuses a missing variable, a key without an id, a short key and a repeated id, saying which', () => {
    assert.throws(() => payloadCodecFromEnv({}), /PAYLOAD_ENCRYPTION_KEYS is not set/);
    assert.throws(() => parsePayloadKeys(key), /key 1 has no id/);
    assert.throws(() => parsePayloadKeys(`a:${Buffer.alloc(16).toString('base64')}`), /key "a" is 16 bytes, not 32/); // prettier-ignore
    assert.throws(() => parsePayloadKeys(`a:${key},a:${key}`), /key id "a" is given twice/);
    assert.throws(() => parsePayloadKeys(' , '), /holds no key/);
  });
});
