// One call's turn clock: the marks of each turn as they happen (the caller's last voiced
// frame, the end of the utterance, the recognition, the reply, the first audio sent) and
// what the turn's speech cost, read out once as the turn's timing report. A turn's record
// is forgotten when it is reported, played or not. A turn whose reply was slow may have put
// the caller on hold: the hold lines are not the reply (they never reach `played`), so voice
// to voice stays "caller stopped → reply audio"; the hold is reported beside it.
import type { TurnTimingReport } from '../../contracts/call';
import type { Held } from './hold-line';

/** The turn's timing as the edge knows it: the workflow's report, and the hold if any. */
export type EdgeTurnTiming = TurnTimingReport & { held?: Held };

/** The caller's side of a turn, from the last voiced frame to the workflow's reply. */
export interface HeardMarks {
  lastVoicedAt: number;
  endpointedAt: number;
  recognizedAt: number;
  /** The workflow's reply came back. */
  repliedAt: number;
}

/** The turn's first audio handed to playout. */
export interface FirstAudio {
  /** Its text was there to synthesize: a streamed sentence said, or the reply back. */
  textReadyAt: number;
  synthesizedAt: number;
  firstFrameAt: number;
  cacheHit: boolean;
}

interface TurnRecord {
  heard?: HeardMarks;
  firstAudio?: FirstAudio;
  /** What a provider was paid to synthesize for the turn (cache hits cost nothing). */
  billed?: { provider: string; characters: number };
  /** Voiced without a synthesizer; an apology outweighs pieces. */
  spokenAs?: 'pieces' | 'apology';
  held?: Held;
}

export class TurnClock {
  private readonly turns = new Map<number, TurnRecord>();

  heard(turnId: number, marks: HeardMarks): void {
    this.turn(turnId).heard = marks;
  }

  /** Audio of the turn went to playout; only the first counts. */
  played(turnId: number, audio: FirstAudio): void {
    this.turn(turnId).firstAudio ??= audio;
  }

  /** A provider synthesized `characters` for the turn (the last provider is the one named). */
  billed(turnId: number, provider: string, characters: number): void {
    const turn = this.turn(turnId);
    turn.billed = { provider, characters: (turn.billed?.characters ?? 0) + characters };
  }

  /** A line of the turn was said from pieces, or replaced by the apology. */
  degraded(turnId: number, spokenAs: 'pieces' | 'apology'): void {
    const turn = this.turn(turnId);
    if (turn.spokenAs !== 'apology') turn.spokenAs = spokenAs;
  }

  /** The caller was on hold while the turn's reply was awaited. */
  held(turnId: number, held: Held): void {
    this.turn(turnId).held = held;
  }

  /** The turn's timing (undefined when nothing of it was played), and forgets the turn. */
  report(turnId: number): EdgeTurnTiming | undefined {
    const turn = this.turns.get(turnId);
    this.turns.delete(turnId);
    const { heard: t, firstAudio: played, billed, spokenAs, held } = turn ?? {};
    if (!t || !played) return undefined;
    // A streamed answer's first sentence was ready, and played, before the reply came back.
    const repliedAt = Math.min(t.repliedAt, played.textReadyAt);
    return {
      turnId,
      endpointingMs: t.endpointedAt - t.lastVoicedAt,
      asrMs: t.recognizedAt - t.endpointedAt,
      orchestrationMs: repliedAt - t.recognizedAt,
      ttsMs: played.synthesizedAt - repliedAt,
      firstFrameMs: played.firstFrameAt - played.synthesizedAt,
      voiceToVoiceMs: played.firstFrameAt - t.lastVoicedAt,
      cacheHit: played.cacheHit,
      ...(billed && { ttsProvider: billed.provider, ttsCharacters: billed.characters }),
      ...(spokenAs && { spokenAs }),
      ...(spokenAs === 'apology' && { smsFollowUp: true }),
      ...(held && { held }),
    };
  }

  private turn(turnId: number): TurnRecord {
    let turn = this.turns.get(turnId);
    if (!turn) this.turns.set(turnId, (turn = {}));
    return turn;
  }
}
