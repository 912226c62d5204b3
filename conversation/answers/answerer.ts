// The answering port: a grounded answer to one question, sentence by sentence.
import type { AnswerInput, AnswerRecord } from '../../contracts/answers';

export interface AnswerOptions {
  /** Each checked, speakable sentence as soon as it is ready (played by the edge). */
  onSentence?: (sentence: string) => Promise<void> | void;
  /** Barge-in or hang-up: stop generating. */
  signal?: AbortSignal;
}

export interface Answerer {
  answer(input: AnswerInput, opts?: AnswerOptions): Promise<AnswerRecord>;
}
