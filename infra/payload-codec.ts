// What Temporal stores of a call (caller numbers, names, transcripts, balances) is encrypted
// before it leaves the process: AES-256-GCM over each serialized payload, with a key id in the
// payload's metadata so keys can be rotated. Workers, the edge, the CLI and tests use the same
// data converter; the server, its database and the Web UI see only ciphertext.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const ENV = 'PAYLOAD_ENCRYPTION_KEYS';
const FORMAT = `${ENV}=<id>:<base64 of ${KEY_BYTES} bytes>[,<id>:<base64>…]`;

export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** `id:base64[,id:base64…]`: the first key encrypts, every key decrypts (rotation). */
export function parsePayloadKeys(spec: string): PayloadKey[] {
  const keys = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const colon = entry.indexOf(':');
      const id = colon > 0 ? entry.slice(0, colon) : '';
      if (!/^[A-Za-z0-9._-]+$/.test(id))
        throw new Error(`${ENV}: key ${i + 1} has no id (expected ${FORMAT})`);
      const key = Buffer.from(entry.slice(colon + 1), 'base64');
      if (key.length !== KEY_BYTES)
        throw new Error(`${ENV}: key "${id}" is ${key.length} bytes, not ${KEY_BYTES} (expected ${FORMAT})`); // prettier-ignore
      return { id, key };
    });
  if (!keys.length) throw new Error(`${ENV} holds no key (expected ${FORMAT})`);
  const ids = keys.map((k) => k.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new Error(`${ENV}: key id "${twice}" is given twice`);
  return keys;
}

/** A new key in the variable's format, for local runs and tests. */
export const newPayloadKeys = (id: string): string =>
  `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;

/**
 * Throwaway servers (tests, benchmarks) hold throwaway data: unless keys are set, a key of the
 * run's own, which the processes it starts inherit.
 */
export function ensureRunPayloadKeys(): void {
  process.env.PAYLOAD_ENCRYPTION_KEYS ??= newPayloadKeys('run');
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');

export const isEncrypted = (p: Payload): boolean =>
  str(p.metadata?.encoding) === ENCRYPTED_ENCODING;

export class EncryptingPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: PayloadKey;

  constructor(keys: readonly PayloadKey[]) {
    if (!keys[0]) throw new Error('EncryptingPayloadCodec needs at least one key');
    this.current = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((p) => this.encrypt(p)));
  }

  /** Payloads written before encryption (plaintext) pass through: old histories replay. */
  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() =>
      payloads.map((p) => (isEncrypted(p) ? this.decrypt(p) : p)),
    );
  }

  private encrypt(p: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const plain = temporal.api.common.v1.Payload.encode(p).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: text(ENCRYPTED_ENCODING), [KEY_ID]: text(this.current.id) },
      data: sealed,
    };
  }

  private decrypt(p: Payload): Payload {
    const id = str(p.metadata?.[KEY_ID]);
    const key = this.byId.get(id);
    if (!key)
      throw new Error(`a payload is encrypted with key "${id}", which ${ENV} does not hold`);
    const data = Buffer.from(p.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error('an encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** The keys from the environment; a clear error when they are missing or malformed. */
export function payloadKeysFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadKey[] {
  const spec = env.PAYLOAD_ENCRYPTION_KEYS;
  if (!spec)
    throw new Error(`${ENV} is not set: the keys that encrypt call data in Temporal history (${FORMAT})`); // prettier-ignore
  return parsePayloadKeys(spec);
}

export const payloadCodecFromEnv = (env: NodeJS.ProcessEnv = process.env): EncryptingPayloadCodec =>
  new EncryptingPayloadCodec(payloadKeysFromEnv(env));

/** The data converter every client and worker of the system uses. */
export const historyDataConverter = (env: NodeJS.ProcessEnv = process.env): DataConverter => ({
  payloadCodecs: [payloadCodecFromEnv(env)],
});

/**
 * Replaces every encrypted payload inside a fetched history (or any part of one) with its
 * plaintext, in place: what tests inspect and what recorded histories hold.
 */
export async function decryptPayloadsIn<T>(value: T, codec: PayloadCodec): Promise<T> {
  const visit = async (node: unknown): Promise<void> => {
    if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (isPayload(item) && isEncrypted(item)) node[i] = (await codec.decode([item]))[0];
        else await visit(item);
      }
      return;
    }
    const record = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(record)) {
      if (isPayload(v) && isEncrypted(v)) record[k] = (await codec.decode([v]))[0];
      else await visit(v);
    }
  };
  await visit(value);
  return value;
}

const isPayload = (v: unknown): v is Payload =>
  !!v && typeof v === 'object' && 'metadata' in v && 'data' in v;
