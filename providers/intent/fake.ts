// The fake IntentClassifier: scripted answers by exact text, out_of_scope otherwise, for
// tests of chains and flows without a model; `failures` makes it fail on demand.
import type { Intent } from '../../contracts/call';
import { FakeFailures } from '../fake-failures';
import type { IntentClassifier } from './port';

export class FakeIntentClassifier implements IntentClassifier {
  readonly name = 'fake-intent';
  readonly failures = new FakeFailures(this.name);

  constructor(private readonly answers: Record<string, Intent> = {}) {}

  async classify(text: string): Promise<Intent> {
    await this.failures.check();
    return this.answers[text] ?? { name: 'out_of_scope', confidence: 0 };
  }
}
