// The intent classifiers by name, for the CLI's `intent` command and the intent benchmark:
// one name, or a comma-separated chain (`embedding,rules`: the rules when the model fails).
import type { IntentClassifier } from './port';
import { createEmbeddingIntentClassifier } from './embedding';
import { FallbackIntentClassifier } from './fallback';
import { RulesIntentClassifier } from './rules';

export const INTENT_CLASSIFIERS = ['embedding', 'rules'] as const;

async function classifierNamed(name: string): Promise<IntentClassifier> {
  if (name === 'rules') return new RulesIntentClassifier();
  if (name === 'embedding') {
    const c = createEmbeddingIntentClassifier();
    await c.warmUp();
    return c;
  }
  throw new Error(`unknown classifier "${name}"; one of: ${INTENT_CLASSIFIERS.join(', ')}`);
}

export async function createIntentClassifier(names: string): Promise<FallbackIntentClassifier> {
  const links = [];
  for (const n of names.split(',')) {
    const port = await classifierNamed(n.trim());
    links.push({ provider: port.name, port });
  }
  return new FallbackIntentClassifier(links);
}
