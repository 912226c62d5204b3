// What was said and where the dialogue stands: the state machine's state, the transcript
// and the recent replies (kept to answer a repeated turn). Carried across continue-as-new.
import type { AnswerRecord } from '../../contracts/answers';
import {
  asksYesNo,
  expectedPhrases,
  initialCallState,
  likelyAccountLines,
  likelyNextReply,
  type CallState,
} from '../call-state';
import type { CarriedState, Intent, Reply, TranscriptEntry } from '../definitions';
import { isPatched, PATCHES } from './versions';

/** Replies kept for de-duplication of repeated turns (also carried across continue-as-new). */
const RECENT_REPLIES = 16;
/** Transcript entries carried into a continued run; the full call is in the histories. */
const TRANSCRIPT_TAIL = 20;

export class Conversation {
  state: CallState;
  readonly transcript: TranscriptEntry[];
  readonly replies: Reply[];
  private nextSeq: number;

  constructor(carried?: CarriedState) {
    this.state = carried?.state ?? initialCallState();
    this.transcript = [...(carried?.transcriptTail ?? [])];
    this.replies = [...(carried?.recentReplies ?? [])];
    this.nextSeq = carried?.nextSeq ?? 1;
  }

  get ended(): boolean {
    return this.state.phase === 'ended';
  }

  /**
   * The agent desk handed the call back: the conversation goes on with the AI, from idle, and
   * the desk's line asked "anything else?".
   */
  resume(): void {
    const next: CallState = { ...this.state, phase: 'idle', silences: 0, misses: 0, anythingElseAsked: true }; // prettier-ignore
    delete next.disposition;
    this.state = next;
  }

  replyFor(turnId: number): Reply | undefined {
    return this.replies.find((r) => r.turnId === turnId);
  }

  lastReply(): Reply | undefined {
    return this.replies[this.replies.length - 1];
  }

  lastAgentLine(): string {
    return this.transcript.findLast((e) => e.speaker === 'agent')?.text ?? '';
  }

  note(e: Omit<TranscriptEntry, 'seq'>): void {
    this.transcript.push({ seq: this.nextSeq++, ...e });
  }

  /** The caller talked over a reply: how much of it they heard. */
  interrupted(turnId: number, heardMs: number): void {
    const line = this.transcript.findLast((e) => e.speaker === 'agent' && e.turnId === turnId);
    if (line) line.interrupted = { heardMs: Math.max(0, Math.round(heardMs)) };
  }

  /** The agent's line: noted in the transcript and, for a turn or the greeting, kept as its reply. */
  speak(
    turnId: number,
    text: string,
    action: Reply['action'],
    reason: TranscriptEntry['reason'],
    intent?: Intent,
    answer?: AnswerRecord,
  ): Reply {
    const asking = asksYesNo(this.state.phase);
    const notAnswers = asking && isPatched(PATCHES.paymentYesChecked);
    const wordedAnswers = asking && isPatched(PATCHES.wordedAnswers);
    const hints = expectedPhrases(this.state.phase, { notAnswers, wordedAnswers });
    const expectsAnswer = asking && isPatched(PATCHES.answerExpected);
    const likelyNext = likelyNextText(this.state);
    // A streamed answer was played while it was generated; the edge says only the rest.
    const spokenChars =
      answer?.spokenChars && text.startsWith(answer.text) ? answer.spokenChars : undefined;
    const reply: Reply = {
      turnId,
      text,
      action,
      ...(intent && { intent }),
      ...(hints.length && { hints }),
      ...(expectsAnswer && { expectsAnswer }),
      ...(likelyNext && { likelyNext }),
      ...(spokenChars && { spokenChars }),
    };
    if (text)
      this.note({
        speaker: 'agent',
        turnId,
        text,
        reason,
        ...(answer && {
          answer: {
            servedBy: answer.servedBy,
            ...(answer.refused && { refused: answer.refused }),
            documentIds: answer.documentIds,
            fallbacks: answer.attempts.filter((a) => !a.ok).map((a) => a.provider),
            ...(answer.timings.firstSentenceMs !== undefined && {
              firstSentenceMs: answer.timings.firstSentenceMs,
            }),
          },
        }),
      });
    if (reason === 'greeting' || reason === 'reply') {
      this.replies.push(reply);
      if (this.replies.length > RECENT_REPLIES)
        this.replies.splice(0, this.replies.length - RECENT_REPLIES);
    }
    return reply;
  }

  /**
   * The greeting, not yet handed to the edge, replaced by another first line (the TTS outage
   * notice): the transcript and the replies then hold only what the caller hears.
   */
  replaceGreeting(text: string, action: Reply['action']): Reply {
    const reply = this.replies.findIndex((r) => r.turnId === 0);
    if (reply >= 0) this.replies.splice(reply, 1);
    const line = this.transcript.findIndex((e) => e.speaker === 'agent' && e.reason === 'greeting');
    if (line >= 0) this.transcript.splice(line, 1);
    return this.speak(0, text, action, 'greeting');
  }

  carried(): Pick<CarriedState, 'state' | 'transcriptTail' | 'recentReplies' | 'nextSeq'> {
    return {
      state: this.state,
      transcriptTail: this.transcript.slice(-TRANSCRIPT_TAIL),
      recentReplies: this.replies,
      nextSeq: this.nextSeq,
    };
  }
}

/** What the edge may synthesize ahead of the next reply, each kind from its own version on. */
function likelyNextText(state: CallState): string | undefined {
  const paid = likelyNextReply(state);
  if (paid) return isPatched(PATCHES.likelyNextReply) ? paid : undefined;
  const account = likelyAccountLines(state);
  return account && isPatched(PATCHES.accountLinesAhead) ? account : undefined;
}
