// Embedders as a fallback chain: the first link that answers embeds. Vectors of different
// models are not comparable, so every link must have the same model's dimensions.
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type { Embedder } from './port';

export class FallbackEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  private readonly runner: FallbackRunner<Embedder>;

  constructor(links: FallbackLink<Embedder>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('embeddings', links, gate);
    const sizes = new Set(links.flatMap((l) => (l.port ? [l.port.dimensions] : [])));
    if (sizes.size !== 1)
      throw new Error(`an embedder fallback needs one vector size, not ${[...sizes].join(', ')}`);
    this.dimensions = [...sizes][0]!;
    this.name = links.map((l) => l.provider).join(',');
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return (await this.runner.run((e) => e.embed(texts))).value;
  }
}
