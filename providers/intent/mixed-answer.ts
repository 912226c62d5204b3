// An answer that says both yes and no ("yes — no, wait", "yeah nope go ahead") is no answer:
// the model still picks one side, often with high confidence, and a yes to a payment question
// would pay. Such a reading keeps its intent at a confidence below any call's threshold, so the
// question is asked again. Idioms that only look negative ("no problem") do not count.
import type { Intent } from '../../contracts/call';
import { normalizeUtterance } from './normalize';
import type { IntentClassifier } from './port';

/** Below the call's threshold (default 0.5): the caller is asked again. */
export const MIXED_ANSWER_CONFIDENCE = 0.2;

const YES = /\b(yes|yeah|yep|yup|sure|okay|ok|correct|go ahead|do it|please do)\b/;
const NO = /\b(no|nope|nah|don't|do not|cancel|stop|wait|not now|not yet|not today|maybe later)\b/;
const NOT_A_NO = /\b(no (problem|worries|doubt)|why not)\b/g;

/** Whether the words hold both a yes and a no. */
export function saysYesAndNo(text: string): boolean {
  const words = normalizeUtterance(text).replace(NOT_A_NO, ' ');
  return YES.test(words) && NO.test(words);
}

/** A yes or no intent read from words that hold both, kept below the threshold. */
export function doubtMixedAnswer(text: string, intent: Intent): Intent {
  const answer = intent.name === 'confirm_yes' || intent.name === 'confirm_no';
  if (!answer || !saysYesAndNo(text)) return intent;
  return { ...intent, confidence: Math.min(intent.confidence, MIXED_ANSWER_CONFIDENCE) };
}

export class MixedAnswerGuard implements IntentClassifier {
  readonly name: string;

  constructor(private readonly inner: IntentClassifier) {
    this.name = inner.name;
  }

  async classify(text: string): Promise<Intent> {
    return doubtMixedAnswer(text, await this.inner.classify(text));
  }
}
