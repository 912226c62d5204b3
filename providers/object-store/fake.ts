// The fake ObjectStore, in process memory, for unit tests and benchmarks that must not
// depend on a server. It passes the same conformance suite as the S3 adapter: copies in and
// out (a caller mutating its buffer changes nothing stored), ifAbsent keeps the first object.
// `failures` makes it fail on demand.
import { FakeFailures } from '../fake-failures';
import { ProviderError } from '../provider-error';
import type { ObjectStore } from './port';

export class FakeObjectStore implements ObjectStore {
  readonly name = 'fake-object-store';
  readonly failures = new FakeFailures(this.name);
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();

  async put(
    key: string,
    body: Buffer,
    opts: { contentType?: string; ifAbsent?: boolean } = {},
  ): Promise<{ created: boolean }> {
    await this.failures.check();
    if (!key) throw new ProviderError(this.name, 'bad_input', 'object key must not be empty');
    if (opts.ifAbsent && this.objects.has(key)) return { created: false };
    this.objects.set(key, {
      body: Buffer.from(body),
      contentType: opts.contentType ?? 'application/octet-stream',
    });
    return { created: true };
  }

  async get(key: string): Promise<Buffer | undefined> {
    await this.failures.check();
    const found = this.objects.get(key);
    return found && Buffer.from(found.body);
  }

  async delete(key: string): Promise<void> {
    await this.failures.check();
    this.objects.delete(key);
  }
}
