// Activities bound to the media-edge host that holds a call's socket (task queue
// `media-edge.<hostId>`): what the workflow asks the edge to do besides answering a turn's
// update — a re-prompt after silence, or a grounded answer spoken while it is generated.
import { Context } from '@temporalio/activity';
import type { AnswerInput, AnswerRecord } from '../contracts/answers';
import type { Answerer } from '../conversation/answers/answerer';

/** A reply played sentence by sentence while it is being produced. */
export interface SpokenLine {
  /** Queues a sentence for synthesis and playback, in order; resolves once queued. */
  say(sentence: string): Promise<void>;
  /** Aborted when the caller barges in or hangs up. */
  readonly signal: AbortSignal;
  /** Resolves once every sentence said so far has been handed to playout. */
  flush(): Promise<void>;
}

export interface CallAudio {
  /**
   * Speaks text on the call; resolves once it has been played, or false at once when it
   * should be said `unlessCallerSpeaks` and the caller is speaking.
   */
  speak(callSid: string, text: string, opts?: { unlessCallerSpeaks?: boolean }): Promise<boolean>;
  hangUp(callSid: string): Promise<void>;
  /** Opens the turn's reply line; throws when the call is not on this host. */
  openLine(callSid: string, turnId: number): SpokenLine;
}

/** How long a line said by speakOnCall is remembered against a retry of the same request. */
const SAID_KEPT_MS = 120_000;
const HEARTBEAT_MS = 1_000;

export function createEdgeActivities(calls: CallAudio, answerer?: Answerer) {
  /** Lines being said or said lately, by activity (a retry keeps its activity id). */
  const lines = new Map<string, Promise<{ said: boolean }>>();

  async function say(req: SpeakRequest): Promise<{ said: boolean }> {
    const said = await calls.speak(req.callSid, req.text, {
      unlessCallerSpeaks: req.reprompt === true && !req.hangUpAfter,
    });
    if (req.hangUpAfter) await calls.hangUp(req.callSid);
    return { said };
  }

  return {
    /**
     * Resolves once the line has played (`said: false`: a re-prompt held back, the caller
     * speaking, so history shows it). It heartbeats while the line plays, however long it
     * is. A retry of the same request (its result lost, the host slow to answer) waits for
     * the line the first try is saying instead of saying it again.
     */
    async speakOnCall(req: SpeakRequest): Promise<{ said: boolean }> {
      const ctx = Context.current();
      const { workflowExecution: run, activityId } = ctx.info;
      const key = `${run?.workflowId}/${run?.runId}/${activityId}`;
      let line = lines.get(key);
      if (!line) {
        line = say(req);
        lines.set(key, line);
        line.then(
          () => setTimeout(() => lines.delete(key), SAID_KEPT_MS).unref(),
          () => lines.delete(key), // a failed try is tried afresh
        );
      }
      const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
      try {
        return await line;
      } finally {
        clearInterval(beat);
      }
    },

    async answerOnCall(req: AnswerInput): Promise<AnswerRecord> {
      if (!answerer) throw new Error('this edge host has no answerer configured');
      const line = calls.openLine(req.callSid, req.turnId);
      const cancelled = Context.current().cancellationSignal;
      const signal = AbortSignal.any([line.signal, cancelled]);
      let spokenChars = 0;
      const record = await answerer.answer(req, {
        signal,
        onSentence: async (sentence) => {
          await line.say(sentence);
          spokenChars += (spokenChars ? 1 : 0) + sentence.length;
        },
      });
      await line.flush();
      return { ...record, spokenChars };
    },
  };
}

interface SpeakRequest {
  callSid: string;
  text: string;
  hangUpAfter: boolean;
  /** A re-prompt after silence: not said over a caller who has begun to speak. */
  reprompt?: boolean;
}

export type EdgeActivities = ReturnType<typeof createEdgeActivities>;
