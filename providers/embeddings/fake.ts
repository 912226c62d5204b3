// The fake Embedder: a deterministic unit vector per text (from its hash), for tests of
// chains and retrieval plumbing without a model; `failures` makes it fail on demand.
import { createHash } from 'node:crypto';
import { FakeFailures } from '../fake-failures';
import type { Embedder } from './port';

export class FakeEmbedder implements Embedder {
  readonly name = 'fake-embedder';
  readonly failures = new FakeFailures(this.name);

  constructor(readonly dimensions = 8) {}

  async embed(texts: string[]): Promise<Float32Array[]> {
    await this.failures.check();
    return texts.map((text) => {
      const bytes = createHash('sha256').update(text).digest();
      const v = Float32Array.from({ length: this.dimensions }, (_, i) => bytes[i % 32]! - 127.5);
      const norm = Math.hypot(...v) || 1;
      return v.map((x) => x / norm);
    });
  }
}
