// Grounded answers for text calls, run on the call worker (audio calls answer on the edge
// host: edge-activities.ts). The activity returns only the record: text, ids, timings.
import type { AnswerInput, AnswerRecord } from '../contracts/answers';
import type { Answerer } from '../conversation/answers/answerer';

export function createAnswerActivities(answerer: Answerer) {
  return {
    answerQuestion(input: AnswerInput): Promise<AnswerRecord> {
      return answerer.answer(input);
    },
  };
}

export type AnswerActivities = ReturnType<typeof createAnswerActivities>;
