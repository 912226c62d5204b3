// ObjectStore on S3 (@aws-sdk/client-s3): AWS in production, the local SeaweedFS of
// `switchboard infra` in development and tests. `ifAbsent` is a real conditional put
// (If-None-Match: *, honoured by AWS since 2024 and by SeaweedFS): the store decides, so two
// writers racing for one key get exactly one `created`. A server that ignores the header
// (e.g. `rclone serve s3`, measured) would overwrite silently; it is not supported.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ProviderError } from '../provider-error';
import type { ObjectStore } from './port';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Unset: AWS's own endpoint for the region. Set: a local/compatible server. */
  endpoint?: string;
  region: string;
  /** Unset: the SDK's default chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Bucket in the path, not the host name; local servers need it (default: with endpoint). */
  forcePathStyle?: boolean;
  /** Per HTTP request; the SDK retries a timed-out request like a 5xx. */
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  /** The SDK's attempts per call (5xx, throttling, network errors). */
  maxAttempts: number;
}

export const S3_DEFAULTS: Omit<S3ObjectStoreOptions, 'bucket'> = {
  region: 'us-east-1',
  requestTimeoutMs: 5_000,
  connectTimeoutMs: 1_000,
  maxAttempts: 3,
};

/** The S3_* settings the edge and the post-call worker read (keys: a local store's). */
export interface S3EnvSettings {
  S3_REGION: string;
  S3_ENDPOINT?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
}

export function s3Options(c: S3EnvSettings, bucket: string) {
  return {
    bucket,
    region: c.S3_REGION,
    ...(c.S3_ENDPOINT && { endpoint: c.S3_ENDPOINT, forcePathStyle: true }),
    ...(c.S3_ACCESS_KEY_ID &&
      c.S3_SECRET_ACCESS_KEY && {
        credentials: { accessKeyId: c.S3_ACCESS_KEY_ID, secretAccessKey: c.S3_SECRET_ACCESS_KEY },
      }),
  };
}

// S3 allows 1024 bytes of UTF-8; an empty key names the bucket itself.
const MAX_KEY_BYTES = 1024;
// AWS answers 409 when a conditional write races another write of the same key in flight.
const CONFLICT_RETRIES = 3;

export class S3ObjectStore implements ObjectStore {
  readonly name = 's3';
  readonly bucket: string;
  private readonly client: S3Client;

  constructor(options: Partial<S3ObjectStoreOptions> & { bucket: string }) {
    const o = { ...S3_DEFAULTS, ...options };
    this.bucket = o.bucket;
    this.client = new S3Client({
      region: o.region,
      endpoint: o.endpoint,
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      credentials: o.credentials,
      maxAttempts: o.maxAttempts,
      requestHandler: {
        requestTimeout: o.requestTimeoutMs,
        connectionTimeout: o.connectTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
  }

  async put(
    key: string,
    body: Buffer,
    opts: { contentType?: string; ifAbsent?: boolean } = {},
  ): Promise<{ created: boolean }> {
    checkKey(key);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentLength: body.length,
      ContentType: opts.contentType ?? 'application/octet-stream',
      ...(opts.ifAbsent ? { IfNoneMatch: '*' } : {}),
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(command);
        return { created: true };
      } catch (err) {
        const status = statusOf(err);
        // The first object stays. (Should the SDK retry a put whose reply was lost, the retry
        // finds our own object and says created: false; the stored bytes are ours either way.)
        if (opts.ifAbsent && status === 412) return { created: false };
        if (opts.ifAbsent && status === 409 && attempt < CONFLICT_RETRIES) {
          await new Promise((r) => setTimeout(r, 20 * attempt));
          continue;
        }
        throw this.failure('PutObject', key, err);
      }
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    checkKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (statusOf(err) === 404 && !isNoSuchBucket(err)) return undefined;
      throw this.failure('GetObject', key, err);
    }
  }

  /** Deleting a missing key succeeds (S3 semantics), so a retried cleanup is harmless. */
  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw this.failure('DeleteObject', key, err);
    }
  }

  /** HeadObject: whether the key exists, without reading it (not part of the port). */
  async exists(key: string): Promise<boolean> {
    checkKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw this.failure('HeadObject', key, err);
    }
  }

  /** Closes the client's idle keep-alive sockets. */
  close(): void {
    this.client.destroy();
  }

  private failure(op: string, key: string, err: unknown): ProviderError {
    const where = `s3 ${op} ${this.bucket}/${key}`;
    if (isNoSuchBucket(err)) {
      return new ProviderError(
        this.name,
        'bad_input',
        `${where}: bucket ${this.bucket} does not exist`,
        { cause: err },
      );
    }
    if (!(err instanceof Error))
      return new ProviderError(this.name, 'unavailable', `${where}: ${String(err)}`);
    const status = statusOf(err);
    if (status)
      return ProviderError.fromStatus(
        this.name,
        status,
        `${where}: ${status} ${err.name}: ${err.message}`,
      );
    return new ProviderError(this.name, 'unavailable', `${where}: ${err.message}`, { cause: err });
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

function isNoSuchBucket(err: unknown): boolean {
  return err instanceof Error && err.name === 'NoSuchBucket';
}

function checkKey(key: string): void {
  if (!key || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new ProviderError(
      's3',
      'bad_input',
      `object key must be 1..${MAX_KEY_BYTES} bytes: "${key.slice(0, 80)}"`,
    );
  }
}
