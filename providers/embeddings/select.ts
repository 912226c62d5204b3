// Picks an Embedder by a short name (CLI flags, training script, benchmarks).
import type { Embedder } from './port';
import { sharedMiniLmEmbedder } from './minilm-onnx';
import { sharedUseLiteEmbedder } from './use-lite';

export const EMBEDDER_NAMES = ['minilm', 'use-lite'] as const;

export function createEmbedder(name: string): Embedder {
  switch (name) {
    case 'minilm':
      return sharedMiniLmEmbedder();
    case 'use-lite':
      return sharedUseLiteEmbedder();
    default:
      throw new Error(`unknown embedder "${name}"; one of: ${EMBEDDER_NAMES.join(', ')}`);
  }
}
