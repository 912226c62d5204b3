// The calls this edge host holds: one CallSession per media stream, reachable by call sid
// for the workflow's host-bound activities (speak, hang up, a streamed answer), and the work
// calls left running, which shutdown waits for.
import type { Client } from '@temporalio/client';
import type { CallAudio } from '../../activities/edge-activities';
import type { TurnTimingReport } from '../../contracts/call';
import { createVad, type Vad } from '../audio/vad';
import type { SpeechSynthesizer } from '../speech-synthesizer';
import type { MediaStreamSession } from '../twilio/media-stream';
import { CallBridge } from './bridge';
import type { CallLine } from './call-line';
import type { Recognizers } from './listener';
import { CallRecorder } from './recorder';
import type { RecordingSink } from './recording-spool';
import { CallSession, type CallSessionOptions } from './session';
import type { TtsOutageCheck } from './tts-outage';

export interface EdgeCallsDeps {
  client: Client;
  /** The host-bound task queue of this edge: `media-edge.<hostId>`. */
  hostTaskQueue: string;
  recognizer: Recognizers;
  /** The caller's voice activity detector for one call (default WebRTC). */
  vad?: () => Promise<Vad>;
  tts: SpeechSynthesizer;
  /** The recording spool: on disk first, then the object store, then the workflow told. */
  recordings: RecordingSink;
  /** Named in the recording.completed event. */
  recordingsBucket?: string;
  session?: CallSessionOptions;
  /** Whether every synthesizer is out: a new call then gets the outage notice. */
  ttsOutage?: TtsOutageCheck;
  /** The host's media plane: each call is bridged into it (a human agent can join). */
  media?: { join(stream: MediaStreamSession, line: CallLine): void };
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** How long shutdown waits for calls' background work; the launcher's stop bound covers it. */
export const EDGE_DRAIN_MS = 15_000;

/** Recent turns' timings kept for the benchmark and ops (bounded). */
const MAX_TIMINGS = 10_000;

export class EdgeCalls implements CallAudio {
  private readonly calls = new Map<string, CallSession>();
  /** Where each answered turn's time went, from the caller's last voiced frame. */
  readonly turnTimings: TurnTimingReport[] = [];
  /** Work a call left running (a recording being stored, a signal on its way), by what it is. */
  private readonly background = new Map<Promise<unknown>, string>();

  constructor(private readonly deps: EdgeCallsDeps) {}

  /** The media stream plugin's onStream: the call's session runs until its stream closes. */
  readonly onStream = async (stream: MediaStreamSession): Promise<void> => {
    const { deps } = this;
    const { callSid } = stream;
    const session = new CallSession(
      stream,
      {
        bridge: new CallBridge(deps.client, callSid),
        vad: await (deps.vad ?? createVad)(),
        recognizer: deps.recognizer,
        tts: deps.tts,
        recorder: new CallRecorder(),
        recordings: deps.recordings,
        ...(deps.recordingsBucket && { recordingsBucket: deps.recordingsBucket }),
        ...(deps.ttsOutage && { ttsOutage: deps.ttsOutage }),
        track: (what, work) => this.track(what, work),
        onTiming: (timing) => {
          if (timing.turnId === 0) return; // the greeting
          this.turnTimings.push(timing);
          if (this.turnTimings.length > MAX_TIMINGS) this.turnTimings.shift();
        },
        log: (msg, fields) => deps.log(msg, { callSid, ...fields }),
      },
      deps.session,
    );
    session.onEnd = () => this.calls.delete(callSid);
    this.calls.set(callSid, session);
    deps.media?.join(stream, session.line);
    // Not awaited: the stream holds its events until onStream settles, and the caller's
    // audio must flow while the workflow prepares the greeting.
    this.track(`greeting of ${callSid}`, session.start(deps.hostTaskQueue));
  };

  /**
   * Resolves once what calls left running has settled (or after `timeoutMs`): on shutdown,
   * recordings are stored and the workflows told before the Temporal connection closes.
   * `waiting` hears what is still pending, at once and every 5 s.
   */
  async drain(
    timeoutMs = EDGE_DRAIN_MS,
    waiting: (pending: string[]) => void = () => undefined,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.background.size > 0 && Date.now() < deadline) {
      waiting([...this.background.values()]);
      const left = Math.min(deadline - Date.now(), 5_000);
      await Promise.race([
        Promise.allSettled([...this.background.keys()]),
        new Promise((r) => setTimeout(r, left).unref()),
      ]);
    }
  }

  private track(what: string, work: Promise<unknown>): void {
    this.background.set(work, what);
    const done = () => void this.background.delete(work);
    work.then(done, done);
  }

  /**
   * Resolves once the text has been played (so a hang-up after it does not cut it), or at
   * once with false when a re-prompt would talk over the caller.
   */
  speak(
    callSid: string,
    text: string,
    opts: { unlessCallerSpeaks?: boolean } = {},
  ): Promise<boolean> {
    return this.held(callSid).say(text, opts);
  }

  openLine(callSid: string, turnId: number) {
    return this.held(callSid).openLine(turnId);
  }

  async hangUp(callSid: string): Promise<void> {
    this.calls.get(callSid)?.hangUp(); // already gone: nothing to hang up
  }

  private held(callSid: string): CallSession {
    const session = this.calls.get(callSid);
    if (!session) throw new Error(`call ${callSid} is not on this edge host`);
    return session;
  }
}
