// The local object store (SeaweedFS, started by `infra up`) as the S3 adapter sees it.
import { objectStoreConfig, type ObjectStoreBucket } from '../infra/object-store';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../providers/object-store/s3';

/** One of the local buckets; `over` changes an option (an endpoint behind a fault proxy, …). */
export function localObjectStore(
  bucket: ObjectStoreBucket = 'audio',
  over: Partial<S3ObjectStoreOptions> = {},
): S3ObjectStore {
  const c = objectStoreConfig(bucket);
  return new S3ObjectStore({
    bucket: c.bucket,
    endpoint: c.endpoint,
    region: c.region,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    ...over,
  });
}
