// The calls this edge host holds: one CallSession per media stream, wired to the stream's
// audio, its playout and recording, and reachable by call sid for the workflow's
// host-bound activities (speak, hang up).
import type { Client } from '@temporalio/client';
import type { CallAudio } from '../activities/edge-activities';
import type { ObjectStore } from '../providers/object-store/port';
import { recordingReadySignal, turnTimingSignal } from '../contracts/call';
import { createVad } from './audio/vad';
import { mulawToPcm } from '../audio/mulaw';
import { CallBridge } from './call-bridge';
import { CallRecorder } from './call-recorder';
import {
  CallSession,
  type CallSessionOptions,
  type TurnTiming,
  type UtteranceRecognizer,
} from './call-session';
import type { MediaStreamSession } from './media-stream';
import type { SpeechSynthesizer } from './speech-synthesizer';
import { Playout, type PlayoutTransport } from './playout';

export interface EdgeCallsDeps {
  client: Client;
  /** The host-bound task queue of this edge: `media-edge.<hostId>`. */
  hostTaskQueue: string;
  recognizer: (hints?: string[]) => UtteranceRecognizer;
  tts: SpeechSynthesizer;
  recordings: ObjectStore;
  /** Named in the recording.completed event. */
  recordingsBucket?: string;
  session?: CallSessionOptions;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

interface HeldCall {
  stream: MediaStreamSession;
  session: CallSession;
  playout: Playout;
}

export const recordingKey = (callSid: string): string => `recordings/${callSid}.wav`;

/** How long shutdown waits for calls' background work; the launcher's stop bound covers it. */
export const EDGE_DRAIN_MS = 15_000;

/** Recent turns' timings kept for the benchmark and ops (bounded). */
const MAX_TIMINGS = 10_000;

export class EdgeCalls implements CallAudio {
  private readonly calls = new Map<string, HeldCall>();
  /** Where each answered turn's time went, from the caller's last voiced frame. */
  readonly turnTimings: TurnTiming[] = [];
  /** Work a call left running (a recording being stored, a signal on its way), by what it is. */
  private readonly background = new Map<Promise<unknown>, string>();

  constructor(private readonly deps: EdgeCallsDeps) {}

  /** The media stream plugin's onStream: runs the call until its stream closes. */
  readonly onStream = async (stream: MediaStreamSession): Promise<void> => {
    const { deps } = this;
    const recorder = new CallRecorder();
    // The agent's channel is what was actually sent, so a barge-in's cut shows in it.
    const transport: PlayoutTransport = {
      get isOpen() {
        return stream.isOpen;
      },
      sendAudio: (mulaw) => {
        recorder.agent(mulawToPcm(mulaw));
        return stream.sendAudio(mulaw);
      },
      sendMark: (name) => stream.sendMark(name),
      clear: () => stream.clear(),
      on: (event: 'mark' | 'close', listener: (name: string) => void) => stream.on(event, listener),
      off: (event: 'mark' | 'close', listener: (name: string) => void) =>
        stream.off(event, listener),
    };
    const playout = new Playout(transport);
    const vad = await createVad();
    const bridge = new CallBridge(deps.client, stream.callSid);
    const session = new CallSession(
      {
        bridge,
        vad,
        recognizer: deps.recognizer,
        tts: deps.tts,
        out: {
          get isSpeaking() {
            return playout.isSpeaking;
          },
          play: (mulaw) => playout.play(mulaw),
          interrupt: () => {
            const cut = playout.interrupt();
            return { heardMs: cut.playbacks[0]?.heardMs ?? 0 };
          },
        },
        recorder,
        log: (msg, fields) => deps.log(msg, { callSid: stream.callSid, ...fields }),
      },
      deps.session,
    );
    // <Connect><Stream> ends the call when the stream closes (nothing follows it in the TwiML).
    session.onHangup = () => stream.close('the agent ended the call');
    session.onReply = (_reply, timing) => {
      if (!timing) return;
      if (timing.turnId > 0) this.turnTimings.push(timing); // turn 0 is the greeting
      if (this.turnTimings.length > MAX_TIMINGS) this.turnTimings.shift();
      // The workflow publishes it with the turn's metrics (the voice-to-voice time is only known here).
      this.track(
        `turn ${timing.turnId} timing of ${stream.callSid}`,
        bridge.handle
          .signal(turnTimingSignal, timing)
          .catch((err: Error) => deps.log('turn timing not delivered', { error: err.message })),
      );
    };
    this.calls.set(stream.callSid, { stream, session, playout });

    stream.on('audio', (frame) => session.onCallerFrame(frame));
    stream.on('dtmf', (digit) => session.onDtmf(digit));
    stream.on('close', () => {
      session.end();
      playout.dispose();
      vad.close();
      this.calls.delete(stream.callSid);
      this.track(`recording of ${stream.callSid}`, this.storeRecording(stream.callSid, recorder));
    });

    // Not awaited: the stream holds its events until onStream settles, and the caller's
    // audio must flow while the workflow prepares the greeting.
    this.track(
      `greeting of ${stream.callSid}`,
      bridge
        .streamStarted({ streamSid: stream.streamSid, edgeTaskQueue: deps.hostTaskQueue })
        .then((greeting) => session.start(greeting))
        .catch((err: Error) => {
          deps.log('the call workflow did not answer the stream', {
            callSid: stream.callSid,
            error: err.message,
          });
          stream.close('no call workflow');
        }),
    );
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

  /** Resolves once the text has been played (so a hang-up after it does not cut it). */
  async speak(callSid: string, text: string): Promise<void> {
    const held = this.calls.get(callSid);
    if (!held) throw new Error(`call ${callSid} is not on this edge host`);
    await held.session.say(text);
  }

  openLine(callSid: string, turnId: number) {
    const held = this.calls.get(callSid);
    if (!held) throw new Error(`call ${callSid} is not on this edge host`);
    return held.session.openLine(turnId);
  }

  async hangUp(callSid: string): Promise<void> {
    const held = this.calls.get(callSid);
    if (!held) return; // already gone: nothing to hang up
    held.stream.close('the agent ended the call');
  }

  private async storeRecording(callSid: string, recorder: CallRecorder): Promise<void> {
    const key = recordingKey(callSid);
    try {
      await this.deps.recordings.put(key, recorder.toWav(), {
        contentType: 'audio/wav',
        ifAbsent: true,
      });
      await new CallBridge(this.deps.client, callSid).handle.signal(recordingReadySignal, {
        ...(this.deps.recordingsBucket && { bucket: this.deps.recordingsBucket }),
        key,
        durationMs: recorder.durationMs,
        truncated: recorder.truncated,
      });
    } catch (err) {
      // A closed workflow no longer takes signals; the recording is stored all the same.
      this.deps.log('recording stored, workflow not told', {
        callSid,
        key,
        error: (err as Error).message,
      });
    }
  }
}
