// The intent classifiers by name, for the CLI's `intent` command and the intent benchmark.
import type { IntentClassifier } from './port';
import { createEmbeddingIntentClassifier } from './embedding';
import { RulesIntentClassifier } from './rules';

export const INTENT_CLASSIFIERS = ['embedding', 'rules'] as const;

export async function createIntentClassifier(name: string): Promise<IntentClassifier> {
  if (name === 'rules') return new RulesIntentClassifier();
  if (name === 'embedding') {
    const c = createEmbeddingIntentClassifier();
    await c.warmUp();
    return c;
  }
  throw new Error(`unknown classifier "${name}"; one of: ${INTENT_CLASSIFIERS.join(', ')}`);
}
