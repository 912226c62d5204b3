// The local object store's credentials and buckets. The access key pair is generated once
// into the state dir (mode 0600, never in the repo) and given to SeaweedFS as its only
// identity; `objectStoreConfig()` hands the same pair to the S3 adapter.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type Log, paths, shortPath } from './paths';
import { endpoints } from './services';

export const OBJECT_STORE_BUCKETS = {
  /** Synthesized speech (the TTS cache). */
  audio: 'switchboard-audio',
  /** Call recordings (two-channel WAV, uploaded at hang-up). */
  recordings: 'switchboard-recordings',
} as const;
export type ObjectStoreBucket = keyof typeof OBJECT_STORE_BUCKETS;

export interface ObjectStoreConfig {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const REGION = 'us-east-1';

export function objectStoreEndpoint(): string {
  const { host, port } = endpoints().objectStore;
  return `http://${host}:${port}`;
}

function readCredentials(): Credentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(paths().objectStoreCredentials, 'utf8');
  } catch {
    return undefined;
  }
  const c = JSON.parse(text) as Partial<Credentials>;
  if (typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string') {
    throw new Error(`${paths().objectStoreCredentials} is not a credentials file; delete it`);
  }
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
}

/** The local store's endpoint and credentials; `bucket` picks one of OBJECT_STORE_BUCKETS. */
export function objectStoreConfig(bucket: ObjectStoreBucket = 'audio'): ObjectStoreConfig {
  const creds = readCredentials();
  if (!creds) {
    throw new Error(
      `no object store credentials in ${shortPath(paths().objectStoreCredentials)}: ` +
        'run `./switchboard infra up` first',
    );
  }
  return {
    endpoint: objectStoreEndpoint(),
    region: REGION,
    ...creds,
    bucket: OBJECT_STORE_BUCKETS[bucket],
  };
}

// Uppercase alphanumerics for the key id (as AWS's look), URL-safe base64 for the secret.
function randomKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `SB${Array.from(crypto.randomBytes(18), (b) => alphabet[b % alphabet.length]).join('')}`;
}

function writePrivate(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Generates the key pair on first use; writes SeaweedFS's identities file from it. */
export function ensureObjectStoreCredentials(log: Log): void {
  const p = paths();
  let creds = readCredentials();
  if (!creds) {
    creds = {
      accessKeyId: randomKeyId(),
      secretAccessKey: crypto.randomBytes(30).toString('base64url'),
    };
    writePrivate(p.objectStoreCredentials, `${JSON.stringify(creds, null, 2)}\n`);
    log(`generated object store credentials in ${shortPath(p.objectStoreCredentials)}`);
  }
  const identities = {
    identities: [
      {
        name: 'switchboard',
        credentials: [{ accessKey: creds.accessKeyId, secretKey: creds.secretAccessKey }],
        actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
      },
    ],
  };
  writePrivate(p.objectStoreIdentities, `${JSON.stringify(identities, null, 2)}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

/**
 * Creates the buckets that are missing, then proves the store works with these credentials
 * by a write, read and delete. Returns the buckets it created.
 */
export async function ensureBuckets(log: Log, timeoutMs = 20_000): Promise<string[]> {
  const cfg = objectStoreConfig();
  const s3 = new S3Client({
    endpoint: cfg.endpoint,
    region: cfg.region,
    forcePathStyle: true,
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
  });
  const created: string[] = [];
  const deadline = Date.now() + timeoutMs;
  // A freshly started store can still answer 5xx for a moment: retry those, not 4xx.
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const status = statusOf(err);
        if (status === 403) {
          throw new Error(
            `the object store at ${cfg.endpoint} refuses the credentials in ` +
              `${shortPath(paths().objectStoreCredentials)} (it was started with others?): ` +
              '`./switchboard infra down` then `infra up` restarts it with them',
          );
        }
        if ((status !== undefined && status < 500) || Date.now() > deadline) {
          throw new Error(
            `object store at ${cfg.endpoint}: ${what} failed: ${(err as Error).message}`,
          );
        }
        await sleep(250);
      }
    }
  };
  try {
    for (const bucket of Object.values(OBJECT_STORE_BUCKETS)) {
      const exists = await attempt(`HeadBucket ${bucket}`, async () => {
        try {
          await s3.send(new HeadBucketCommand({ Bucket: bucket }));
          return true;
        } catch (err) {
          if (statusOf(err) === 404) return false;
          throw err;
        }
      });
      if (exists) continue;
      await attempt(`CreateBucket ${bucket}`, async () => {
        try {
          await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        } catch (err) {
          if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err; // a racing `up`
        }
      });
      created.push(bucket);
      log(`created bucket ${bucket}`);
    }
    const Key = `.switchboard-probe/${process.pid}`;
    const Bucket = OBJECT_STORE_BUCKETS.audio;
    await attempt('a probe PutObject', () =>
      s3.send(new PutObjectCommand({ Bucket, Key, Body: 'ok' })),
    );
    const body = await attempt('a probe GetObject', async () => {
      const res = await s3.send(new GetObjectCommand({ Bucket, Key }));
      return res.Body?.transformToString();
    });
    if (body !== 'ok')
      throw new Error(`object store at ${cfg.endpoint} returned "${body}" for a probe`);
    await attempt('a probe DeleteObject', () => s3.send(new DeleteObjectCommand({ Bucket, Key })));
  } finally {
    s3.destroy();
  }
  return created;
}
