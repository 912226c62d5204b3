// End of turn from what has been heard: the recognizer's latest hypothesis ends with a phrase
// the dialogue expects ("what's my balance", "yes please", "pay my bill"), so the caller
// has said a whole request and the turn ends at the first pause check instead of after the
// fixed hangover. Anything else (nothing heard yet, half a phrase, words no phrase ends) is
// no verdict: the fixed hangover ends the turn, as without a check. It never calls a turn
// unfinished, so it never makes a caller wait longer than today. An answer to a yes/no
// question gets the whole pause ("yes … no, wait" to a payment must reach the workflow as one
// utterance, where a yes taken back is asked again) unless it is a plain refusal: a "no" moves
// no money, and one taken back ("no … wait, yes") costs the caller only asking again.
import type { PausedTurn, TurnJudge } from './turn-detector';

const normal = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** A refusal and nothing else: "no", "nope thanks", "not now". */
const REFUSAL =
  /^(?:(?:no|nope|nah)(?: (?:thanks|thank you|not now|not today))?|not now|not today)$/;

export class TranscriptTurn implements TurnJudge {
  judge(turn: PausedTurn): Promise<boolean | undefined> {
    const heard = normal(turn.heard);
    if (turn.closedQuestion) return Promise.resolve(REFUSAL.test(heard) || undefined);
    if (!heard) return Promise.resolve(undefined);
    const whole = turn.expected.some((phrase) => {
      const p = normal(phrase);
      return p !== '' && (heard === p || heard.endsWith(` ${p}`));
    });
    return Promise.resolve(whole || undefined);
  }
}
