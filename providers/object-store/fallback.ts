// The object store as a fallback chain: a read goes down the links until one answers; a
// put or a delete goes to the first healthy link only (a put that failed may have landed
// there, and a conditional put must be decided by one store).
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type { ObjectStore } from './port';

export class FallbackObjectStore implements ObjectStore {
  private readonly runner: FallbackRunner<ObjectStore>;

  constructor(links: FallbackLink<ObjectStore>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('object-store', links, gate);
  }

  async put(
    key: string,
    body: Buffer,
    opts?: { contentType?: string; ifAbsent?: boolean },
  ): Promise<{ created: boolean }> {
    const put = (store: ObjectStore) => store.put(key, body, opts);
    return (await this.runner.run(put, { firstOnly: true })).value;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return (await this.runner.run((store) => store.get(key))).value;
  }

  async delete(key: string): Promise<void> {
    await this.runner.run((store) => store.delete(key), { firstOnly: true });
  }
}
