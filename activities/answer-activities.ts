// Grounded answers for text calls, run on the call worker (audio calls answer on the edge
// host: edge-activities.ts). The activity returns only the record: text, ids, timings.
import type { AnswerInput, AnswerRecord } from '../contracts/answers';
import type { Answerer } from '../conversation/answers/answerer';
import { asActivity } from './errors';

export function createAnswerActivities(answerer: Answerer) {
  return {
    answerQuestion(input: AnswerInput): Promise<AnswerRecord> {
      // No model served (FallbackExhaustedError) → a retryable ProviderUnavailable.
      return asActivity(() => answerer.answer(input));
    },
  };
}

export type AnswerActivities = ReturnType<typeof createAnswerActivities>;
