// One call on the edge, from its media stream: listen (caller frames → VAD → endpointer →
// recognizer → one final utterance), bridge (each utterance or keypad entry is one update
// to the call's workflow; the reply comes back), speak (the reply, or a streamed answer's
// sentences, through the one output queue; the caller talking over the agent pauses it, and
// it resumes after a backchannel or a noise, or is cancelled by a real interruption).
// Partials and audio stay here; only final text, the recognizer's record, the turn clock's
// timings and the recording's key reach the workflow.
import { performance } from 'node:perf_hooks';
import type { Reply } from '../../contracts/call';
import { mulawToPcm } from '../../audio/mulaw';
import { speechUnits, type SpeechSynthesizer } from '../speech-synthesizer';
import { voiceExplained } from '../../audio/voicing';
import type { CallBridge } from './bridge';
import { CallLine } from './call-line';
import { DtmfCollector, type DtmfEntry } from './dtmf-entry';
import {
  BACKCHANNELS,
  judgeInterruption,
  type FalseInterruptionOptions,
} from './false-interruption';
import { HoldLine, type Held, type HoldLineOptions } from './hold-line';
import {
  Listener,
  type ListenerOptions,
  type Recognition,
  type Utterance,
  type Recognizers,
} from './listener';
import { Playout, type PlayoutTransport } from './playout';
import type { CallRecorder } from './recorder';
import type { RecordingSink } from './recording-spool';
import { Speaker, type PausedReply, type TurnOutput } from './speaker';
import type { TtsOutageCheck } from './tts-outage';
import { TurnClock, type EdgeTurnTiming } from './turn-clock';

/** The media stream as a call uses it: its events, and the transport the agent is played on. */
export interface CallStream extends PlayoutTransport {
  readonly callSid: string;
  readonly streamSid: string;
  on(event: 'audio', listener: (mulaw: Buffer) => void): unknown;
  on(event: 'dtmf', listener: (digit: string) => void): unknown;
  on(event: 'mark', listener: (name: string) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  close(reason?: string): void;
}

export interface CallSessionDeps {
  bridge: CallBridge;
  vad: { isSpeech(frame: Int16Array): boolean; close(): void };
  /** A recognizer for the next utterance, primed with the phrases the dialogue expects. */
  recognizer: Recognizers;
  tts: SpeechSynthesizer;
  /** Both sides of the call; the agent's as it is sent, so a barge-in's cut shows in it. */
  recorder: CallRecorder;
  /** Keeps the recording on disk until the object store has it, then tells the workflow. */
  recordings: RecordingSink;
  /** Named in the recording.completed event. */
  recordingsBucket?: string;
  /** Work that outlives the step that started it (a signal, the recording), for shutdown. */
  track: (what: string, work: Promise<unknown>) => void;
  /** Whether the edge's voice is out (a prolonged TTS outage), told to the workflow at start. */
  ttsOutage?: TtsOutageCheck;
  /** Each answered turn's timing, as it is sent to the workflow. */
  onTiming?: (timing: EdgeTurnTiming) => void;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface CallSessionOptions extends ListenerOptions {
  /** A pause this long ends a keypad entry ('#' ends it at once). */
  dtmfGapMs?: number;
  /**
   * The workflow hands a transferred call to the agents' queue through Twilio (an agent
   * queue number is configured): the edge then keeps the line open after the transfer line,
   * and Twilio ends the stream when the call's TwiML is replaced by the <Dial>.
   */
  transfersByTwilio?: boolean;
  /**
   * The workflow hands a transferred call to the agent desk: the edge keeps the call and goes
   * on sending the caller's turns (the workflow writes them down and answers nothing while a
   * human has the call), and plays no hold line while the call is on the desk.
   */
  transfersToDesk?: boolean;
  /** While a turn's reply is awaited: when the prerecorded hold lines play. */
  hold?: HoldLineOptions;
  /**
   * A barge-in pauses the reply until the caller's sound is recognized: a backchannel or a
   * noise resumes it. Without this, any barge-in cuts the reply at once.
   */
  falseInterruption?: FalseInterruptionOptions;
  /**
   * The answer to a yes/no question is doubted (its confidence scaled down) when its words'
   * syllables, at this many ms of voiced audio each, explain less than the voice heard: a
   * grammar recognizer keeps "sure" of "I am not sure". 0 or none: not checked.
   */
  closedAnswerMsPerSyllable?: number;
}

/** A reply paused by a possible barge-in, until the verdict or its bound. */
interface PendingBargeIn {
  paused: PausedReply;
  timer: NodeJS.Timeout;
}

const recordingKey = (callSid: string): string => `recordings/${callSid}.wav`;

export class CallSession {
  readonly callSid: string;
  /** The caller's ear: the agent's playout and any other voice put on the call (a human's). */
  readonly line: CallLine;
  private readonly listener: Listener;
  private readonly speaker: Speaker;
  private readonly clock = new TurnClock();
  private readonly keypad: DtmfCollector;
  private readonly hold: HoldLine;
  private turnChain: Promise<void> = Promise.resolve();
  /** Caller turns endpointed and not yet answered (recognizing, or awaiting the workflow). */
  private turnsInFlight = 0;
  private readonly transfersByTwilio: boolean;
  private readonly transfersToDesk: boolean;
  /** Transferred to the desk and not yet back with the AI: no hold lines. */
  private onDesk = false;
  /** The workflow's last reply ended the conversation (a hang-up or transfer follows). */
  private closing = false;
  private ended = false;
  private readonly falseInterruption?: FalseInterruptionOptions;
  private readonly closedAnswerMsPerSyllable: number | undefined;
  private pending?: PendingBargeIn;
  /** Called once the call is over (its stream closed). */
  onEnd?: () => void;

  constructor(
    private readonly stream: CallStream,
    private readonly deps: CallSessionDeps,
    opts: CallSessionOptions = {},
  ) {
    this.callSid = stream.callSid;
    const falseInterruption = opts.falseInterruption;
    this.falseInterruption = falseInterruption;
    this.closedAnswerMsPerSyllable = opts.closedAnswerMsPerSyllable;
    this.listener = new Listener(
      {
        vad: deps.vad,
        recognizer: deps.recognizer,
        recorder: deps.recorder,
        onSpeaking: () => {
          if (this.speaker.isSpeaking) this.overTheAgent();
        },
        onLongUtterance: () => {
          if (this.pending) this.commitBargeIn('the caller kept talking');
        },
        onUtterance: (u) => {
          // Timing only (never the words): a turn that gets no answer can be traced.
          deps.log('utterance ended', {
            afterVoiceMs: Math.round(u.endpointedAt - u.lastVoicedAt),
            overPausedReply: this.pending !== undefined,
          });
          if (this.pending) return void this.decide(u, this.pending);
          // Turns are answered in order; the next one waits for this one's reply to start.
          void this.inTurn(() => this.answer(u));
        },
        // The grammar of a local recognizer must know the listening words to hear them.
        ...(falseInterruption && {
          extraHints: () => (this.speaker.isSpeaking ? BACKCHANNELS : []),
        }),
        // Only a sound over the agent is judged by its voice (and a closed answer, always).
        voiceWeighed: () =>
          falseInterruption !== undefined &&
          (this.pending !== undefined || this.speaker.isSpeaking),
      },
      { ...opts, ...(falseInterruption && { longUtteranceMs: falseInterruption.maxSpeechMs }) },
    );
    // Everything the caller hears goes through the line, and is recorded as it is sent.
    this.line = new CallLine(stream, {
      onFrameSent: (mulaw) => deps.recorder.agent(mulawToPcm(mulaw)),
    });
    const playout = new Playout(this.line);
    this.speaker = new Speaker({
      playout,
      tts: deps.tts,
      clock: this.clock,
      callSid: this.callSid,
      log: deps.log,
    });
    this.hold = new HoldLine({ playout, log: deps.log }, opts.hold);
    this.transfersByTwilio = opts.transfersByTwilio ?? false;
    this.transfersToDesk = opts.transfersToDesk ?? false;
    this.keypad = new DtmfCollector(opts.dtmfGapMs ?? 1000, (entry) => void this.onKeypad(entry));
    stream.on('audio', (frame) => this.onCallerFrame(frame));
    stream.on('dtmf', (digit) => this.onDtmf(digit));
    stream.on('close', () => this.end());
  }

  /**
   * Tells the workflow the stream is up (and whether this edge's voice is out, which turns
   * the greeting into the outage notice) and plays its greeting; no workflow ends the call.
   */
  async start(edgeTaskQueue: string): Promise<void> {
    let greeting: Reply;
    try {
      const ttsOutage = await this.deps.ttsOutage?.outage();
      if (ttsOutage) this.deps.log('every synthesizer is out: the call is told, not served');
      greeting = await this.deps.bridge.streamStarted({
        streamSid: this.stream.streamSid,
        edgeTaskQueue,
        ...(ttsOutage && { ttsOutage }),
      });
    } catch (err) {
      this.deps.log('the call workflow did not answer the stream', {
        error: (err as Error).message,
      });
      return this.stream.close('no call workflow');
    }
    const at = performance.now();
    // Turn 0: no caller to hear, so its voice to voice is the time to greet.
    this.clock.heard(0, { lastVoicedAt: at, endpointedAt: at, recognizedAt: at, repliedAt: at });
    await this.speak(greeting, { timed: true });
    this.report(0);
  }

  /** One 20 ms μ-law frame from the caller. */
  onCallerFrame(mulaw: Buffer): void {
    if (!this.ended) this.listener.frame(mulaw);
  }

  onDtmf(digit: string): void {
    if (!this.ended) this.keypad.push(digit);
  }

  /**
   * The workflow asked to say something unprompted: a re-prompt after silence, a hold line,
   * a closing line. A re-prompt's timer cannot know the caller has just begun to speak, or
   * that a turn is on its way to the workflow: `unlessCallerSpeaks` then leaves it unsaid
   * (false) rather than talk over the caller.
   */
  async say(text: string, opts: { unlessCallerSpeaks?: boolean } = {}): Promise<boolean> {
    if (opts.unlessCallerSpeaks && (this.listener.hearing || this.turnsInFlight > 0)) {
      this.deps.log('re-prompt not said: the caller is speaking', {
        hearing: this.listener.hearing,
        turnsInFlight: this.turnsInFlight,
      });
      return false;
    }
    await this.speak({ turnId: 0, text, action: 'continue' }, { timed: false, waitPlayed: true });
    return true;
  }

  /**
   * The turn's answer, spoken sentence by sentence while the workflow's answer is generated
   * on this host; a barge-in cancels it.
   */
  openLine(turnId: number): TurnOutput {
    return this.speaker.open(turnId, { timed: true });
  }

  /** The agent ends the call: <Connect><Stream> ends with the stream (nothing follows it). */
  hangUp(): void {
    this.stream.close('the agent ended the call');
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.keypad.dispose();
    this.hold.end();
    this.listener.end();
    this.speaker.end();
    this.deps.vad.close();
    this.deps.track(`recording of ${this.callSid}`, this.storeRecording());
    this.onEnd?.();
  }

  private async onKeypad(entry: DtmfEntry): Promise<void> {
    if (this.ended || this.closing) return;
    await this.inTurn(async () => {
      const { reply, held } = await this.awaitReply(this.deps.bridge.dtmf(entry));
      if (held) this.deps.log('turn held', { turnId: reply.turnId, ...held });
      await this.speak(reply, { timed: false });
    });
  }

  /**
   * Runs a turn after the one before it. A turn the workflow cannot answer (it completed while
   * the update was in flight, or Temporal is away) is logged: the call's other turns and the
   * process go on.
   */
  private inTurn(turn: () => Promise<void>): Promise<void> {
    this.turnsInFlight++;
    this.turnChain = this.turnChain
      .then(turn)
      .catch((err: Error) => {
        this.deps.log('turn not answered', { error: err.message });
      })
      .finally(() => this.turnsInFlight--);
    return this.turnChain;
  }

  /**
   * The caller has spoken over the agent for the barge-in bound. The agent stops at once
   * either way; with false interruptions on, a reply is only paused until the caller's sound
   * is judged (decide), the caller keeps talking, or the wait's bound passes. A hold line, a
   * reply still behind one, and a call on the desk are cut at once, as before.
   */
  private overTheAgent(): void {
    if (this.pending) return;
    const opts = this.falseInterruption;
    if (!opts || this.hold.isPlaying || this.onDesk) return this.bargeIn();
    const paused = this.speaker.pause();
    if (!paused) return this.bargeIn();
    this.deps.log('barge-in pending: reply paused', { ...paused });
    this.pending = {
      paused,
      timer: setTimeout(() => this.commitBargeIn('no verdict in time'), opts.waitMs),
    };
  }

  /** The paused reply is cut for good: the barge-in goes ahead as it always did. */
  private commitBargeIn(why: string, heard?: { text: string; confidence: number }): void {
    if (!this.pending) return;
    clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.deps.log('barge-in committed', { why, ...heard });
    this.bargeIn();
  }

  /**
   * The caller's sound over a paused reply has ended: a backchannel or a noise is dropped
   * (no turn, no signal) and the reply resumes; anything else commits the barge-in and is
   * answered as a turn. Recognized while paused, so the verdict waits on the recognizer.
   */
  private async decide(u: Utterance, pending: PendingBargeIn): Promise<void> {
    const recognition = await this.recognize(u);
    const recognizedAt = performance.now();
    if (this.ended) return;
    if (this.pending === pending) {
      const heard = {
        text: recognition.text,
        confidence: recognition.confidence,
        voicedMs: u.voicedMs(),
      };
      const verdict = judgeInterruption(
        {
          ...recognition,
          served: recognition.record.servedBy !== undefined,
          questionAsked: pending.paused.questionAsked,
          voicedMs: heard.voicedMs,
        },
        this.falseInterruption!,
      );
      if (verdict !== 'interruption') {
        this.deps.log(`utterance dropped: ${verdict} over the agent`, heard);
        // More sound has begun: it is judged in turn (a reply never resumes over the caller).
        if (this.listener.hearing) return;
        clearTimeout(pending.timer);
        this.pending = undefined;
        this.deps.log('reply resumed', { turnId: pending.paused.turnId });
        return this.speaker.resume();
      }
      this.commitBargeIn('an interruption', heard);
    }
    await this.inTurn(() => this.answer(u, { recognition, recognizedAt }));
  }

  private bargeIn(): void {
    // Talking over a hold line cuts it; the reply is still to come, so the workflow is not told.
    if (this.hold.waiting && this.hold.isPlaying) {
      this.hold.cut();
      return this.deps.log('barge-in on the hold line');
    }
    const onHold = this.hold.isPlaying;
    const cut = this.speaker.interrupt();
    if (!cut) return;
    // The reply was queued behind a hold line still playing: none of it was heard.
    if (onHold) cut.heardMs = 0;
    this.deps.log('barge-in', cut);
    void this.deps.bridge
      .bargeIn(cut)
      .catch((err: Error) => this.deps.log('barge-in signal failed', { error: err.message }));
  }

  /** The recognizer's confidence, scaled down for a closed answer that leaves voice unexplained. */
  private confidenceOf(u: Utterance, recognition: Recognition): number {
    const perSyllable = this.closedAnswerMsPerSyllable;
    if (!perSyllable || !u.closedQuestion || !recognition.text) return recognition.confidence;
    const voiced = u.voicedMs();
    const explained = voiceExplained(recognition.text, voiced, perSyllable);
    if (explained < 1)
      this.deps.log('answer doubted: its words explain too little of the voice', {
        voicedMs: voiced,
        explained: Math.round(explained * 100) / 100,
      });
    return recognition.confidence * explained;
  }

  private async recognize(u: Utterance): Promise<Recognition> {
    try {
      return await u.recognizer.finish();
    } catch (err) {
      // The recognizer policy reports failures in its record; a throw here is a bug.
      this.deps.log('recognizer failed', { error: (err as Error).message });
      return { text: '', confidence: 0, record: { attempts: [] } };
    }
  }

  /** A turn: the utterance (recognized already when it was judged over a paused reply). */
  private async answer(
    u: Utterance,
    done?: { recognition: Recognition; recognizedAt: number },
  ): Promise<void> {
    const recognition = done?.recognition ?? (await this.recognize(u));
    // After the last reply (the line held for a transfer) the workflow takes no more turns.
    if (this.ended || this.closing) return;
    const recognizedAt = done?.recognizedAt ?? performance.now();
    this.deps.log('utterance to the workflow', {
      recognizedMs: Math.round(recognizedAt - u.endpointedAt),
      chars: recognition.text.length,
    });
    const { reply, held } = await this.awaitReply(
      this.deps.bridge.utterance(
        recognition.text,
        this.confidenceOf(u, recognition),
        undefined,
        recognition.record,
      ),
    );
    const { lastVoicedAt, endpointedAt } = u;
    this.clock.heard(reply.turnId, {
      lastVoicedAt,
      endpointedAt,
      recognizedAt,
      repliedAt: performance.now(),
    });
    if (held) this.clock.held(reply.turnId, held);
    await this.speak(reply, { timed: true });
    this.report(reply.turnId);
  }

  /**
   * The workflow's reply to a turn; the caller hears the hold lines while it is slow to come,
   * unless the reply's own speech (a streamed answer's first sentence) has begun meanwhile.
   */
  private async awaitReply(update: Promise<Reply>): Promise<{ reply: Reply; held?: Held }> {
    // A human has the call (or it waits for one): the workflow answers at once, with nothing;
    // a reply with words is the AI again (the call was handed back).
    if (this.onDesk) {
      const reply = await update;
      if (reply.text) this.onDesk = false;
      return { reply };
    }
    const before = this.speaker.lastPlayback;
    const { value, held } = await this.hold.over(
      update,
      () => this.speaker.lastPlayback !== before,
    );
    return { reply: value, ...(held && { held }) };
  }

  /** Sends the turn's timing, when any of it was played (the voice to voice is known here only). */
  private report(turnId: number): void {
    const edgeTiming = this.clock.report(turnId);
    if (!edgeTiming) return;
    this.deps.onTiming?.(edgeTiming);
    // The hold is the edge's alone: the workflow's turn metrics have no place for it (yet).
    const { held, ...timing } = edgeTiming;
    if (held)
      this.deps.log('turn held', { turnId, ...held, voiceToVoiceMs: timing.voiceToVoiceMs });
    this.deps.track(
      `turn ${turnId} timing of ${this.callSid}`,
      this.deps.bridge
        .turnTiming(timing)
        .catch((err: Error) => this.deps.log('turn timing not delivered', { error: err.message })),
    );
  }

  /**
   * Speaks the reply, sentence by sentence: the first plays as soon as it is synthesized,
   * the next is synthesized while it plays, and a fixed sentence ("Is there anything
   * else…") is a shared cache hit even after a personal one. A hang-up (or a transfer Twilio
   * does not carry) waits for the reply to finish playing; a barge-in, or nothing said, cancels it.
   */
  private async speak(reply: Reply, opts: { timed: boolean; waitPlayed?: boolean }): Promise<void> {
    if (reply.hints) {
      this.listener.hints = reply.hints;
      this.listener.closedQuestion = reply.expectsAnswer === true;
    }
    const toDesk = reply.action === 'transfer' && this.transfersToDesk;
    if (toDesk) this.onDesk = true;
    else if (reply.action !== 'continue') this.closing = true;
    const ends =
      reply.action === 'hangup' ||
      (reply.action === 'transfer' && !this.transfersByTwilio && !toDesk);
    // The part of a streamed answer already played is not said again.
    const text = reply.text.slice(reply.spokenChars ?? 0).trim();
    if (!text) {
      // All of it was streamed: let it finish playing before a hang-up or transfer.
      if (reply.text && ends) {
        await this.speaker.lastPlayback;
        this.hangUp();
      }
      return;
    }
    const output = this.speaker.open(reply.turnId, { timed: opts.timed });
    let said = false;
    for (const unit of speechUnits(text)) {
      const how = await output.speak(unit);
      if (how === 'cancelled') return;
      if (how === 'failed') break;
      said = true;
    }
    if (!said) return; // nothing said: no hang-up on silence either
    // While the question plays and the caller answers, the likely reply is made ready.
    if (reply.likelyNext) await output.prepare(reply.likelyNext);
    if (ends || opts.waitPlayed) await output.played();
    if (ends) this.hangUp();
  }

  private async storeRecording(): Promise<void> {
    const { recorder } = this.deps;
    const key = recordingKey(this.callSid);
    try {
      await this.deps.recordings.keep(this.callSid, recorder.toWav(), {
        ...(this.deps.recordingsBucket && { bucket: this.deps.recordingsBucket }),
        key,
        durationMs: recorder.durationMs,
        truncated: recorder.truncated,
      });
    } catch (err) {
      // The spool's disk refused it: nothing else holds the audio.
      this.deps.log('recording lost: not written to the spool', {
        key,
        error: (err as Error).message,
      });
    }
  }
}
