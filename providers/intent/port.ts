// The intent family: a fast local classifier of what the caller wants.
import type { Intent } from '../../contracts/call';

export interface IntentClassifier {
  readonly name: string;
  classify(text: string): Promise<Intent>;
}
