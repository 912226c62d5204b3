// Picks embedders by short name (CLI flags, training script, benchmarks): one name, or a
// comma-separated chain of models with the same vector size.
import type { Embedder } from './port';
import { FallbackEmbedder } from './fallback';
import { sharedMiniLmEmbedder } from './minilm-onnx';
import { sharedUseLiteEmbedder } from './use-lite';

export const EMBEDDER_NAMES = ['minilm', 'use-lite'] as const;

function embedderNamed(name: string): Embedder {
  switch (name) {
    case 'minilm':
      return sharedMiniLmEmbedder();
    case 'use-lite':
      return sharedUseLiteEmbedder();
    default:
      throw new Error(`unknown embedder "${name}"; one of: ${EMBEDDER_NAMES.join(', ')}`);
  }
}

export function createEmbedder(names: string): FallbackEmbedder {
  const links = names.split(',').map((n) => {
    const port = embedderNamed(n.trim());
    return { provider: port.name, port };
  });
  return new FallbackEmbedder(links);
}
