// Intent classifiers as a fallback chain: the first link that answers classifies (the
// embedding model, then the rules when it cannot load).
import type { Intent } from '../../contracts/call';
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type { IntentClassifier } from './port';

export class FallbackIntentClassifier implements IntentClassifier {
  readonly name: string;
  private readonly runner: FallbackRunner<IntentClassifier>;

  constructor(links: FallbackLink<IntentClassifier>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('intent', links, gate);
    this.name = links.map((l) => l.provider).join(',');
  }

  async classify(text: string): Promise<Intent> {
    return (await this.runner.run((c) => c.classify(text))).value;
  }
}
