// The one path to the caller's ear. The agent's playout sends its frames through here, and
// so does any other voice put on the call (a human agent's, from the media plane): each
// frame Twilio gets is the sum of what plays at that moment, and that is what is recorded.
//
// Mixing: μ-law is decoded to PCM, summed with clipping and encoded again; a frame with one
// voice passes through untouched (no re-encoding, so a lone voice is bit-exact).
//
// Timing: the playout paces its own frames (up to its lead ahead of Twilio); another voice
// rides on them while the agent talks. When the agent is quiet, the line's own 20 ms clock
// sends the other voices' frames. Each voice arrives over the network in packets of its own
// pace, so each has a small jitter queue: it starts playing once 40 ms are queued, drops the
// oldest audio beyond 200 ms (a voice never falls further behind than that), and on running
// dry waits for 40 ms again. A missing frame is silence from that voice, never a stall. After
// the event loop stalls, the clock sends the frames it owes at once (up to the queue's depth).
import { mulawToPcm, pcmToMulaw } from '../../audio/mulaw';
import { FRAME_BYTES, FRAME_MS } from '../twilio/media-stream-protocol';
import { systemClock, type PlayoutClock, type PlayoutTransport } from './playout';

/** A voice on the line: μ-law bytes in any packet size, played at 8 kHz. */
export interface LineVoice {
  push(mulaw: Buffer): void;
  /** Takes the voice off the line; what it queued is dropped. */
  close(): void;
}

export interface CallLineOptions {
  /** Each frame as sent to the caller (all voices mixed): the recording's agent side. */
  onFrameSent: (mulaw: Buffer) => void;
  clock?: PlayoutClock;
}

const PRIME_BYTES = 2 * FRAME_BYTES;
const MAX_QUEUED_BYTES = 10 * FRAME_BYTES;
/** The agent counts as talking until its playout has sent nothing for this long. */
const AGENT_QUIET_MS = 2 * FRAME_MS;
/** After a stall longer than this the clock starts afresh instead of catching up. */
const MAX_CATCH_UP_MS = 10 * FRAME_MS;

class JitterQueue implements LineVoice {
  private queued: Buffer = Buffer.alloc(0);
  private playing = false;

  constructor(private readonly onClose: (voice: JitterQueue) => void) {}

  push(mulaw: Buffer): void {
    this.queued = Buffer.concat([this.queued, mulaw]);
    // Too far behind (a burst after a stall): the oldest audio goes, the newest 200 ms stay.
    if (this.queued.length > MAX_QUEUED_BYTES)
      this.queued = this.queued.subarray(this.queued.length - MAX_QUEUED_BYTES);
    if (this.queued.length >= PRIME_BYTES) this.playing = true;
  }

  /** The next 20 ms of this voice, or undefined while it is priming or dry. */
  take(): Buffer | undefined {
    if (!this.playing) return undefined;
    if (this.queued.length < FRAME_BYTES) {
      this.playing = false;
      return undefined;
    }
    const frame = Buffer.from(this.queued.subarray(0, FRAME_BYTES));
    this.queued = this.queued.subarray(FRAME_BYTES);
    return frame;
  }

  close(): void {
    this.queued = Buffer.alloc(0);
    this.onClose(this);
  }
}

export class CallLine implements PlayoutTransport {
  private readonly voices = new Set<JitterQueue>();
  private readonly clock: PlayoutClock;
  private agentSentAt = -Infinity;
  private nextTickAt = 0;
  private cancelTick: (() => void) | undefined;

  constructor(
    private readonly stream: PlayoutTransport,
    private readonly opts: CallLineOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    stream.on('close', () => this.end());
  }

  get isOpen(): boolean {
    return this.stream.isOpen;
  }

  /** Another voice for the caller to hear, until its close(). */
  addVoice(): LineVoice {
    const voice = new JitterQueue((gone) => {
      this.voices.delete(gone);
      if (this.voices.size === 0) this.stopClock();
    });
    this.voices.add(voice);
    if (!this.cancelTick && this.stream.isOpen) {
      this.nextTickAt = this.clock.now() + FRAME_MS;
      this.cancelTick = this.clock.setTimer(this.tick, FRAME_MS);
    }
    return voice;
  }

  /** The playout's frame, with the other voices mixed in. */
  sendAudio(frame: Buffer): boolean {
    const mixed = this.mix(frame);
    if (!this.stream.sendAudio(mixed)) return false;
    this.agentSentAt = this.clock.now();
    this.opts.onFrameSent(mixed);
    return true;
  }

  sendMark(name: string): boolean {
    return this.stream.sendMark(name);
  }

  clear(): boolean {
    return this.stream.clear();
  }

  on(event: 'mark', listener: (name: string) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'mark' | 'close', listener: (name: string) => void): unknown {
    return this.stream.on(event as 'mark', listener);
  }

  off(event: 'mark', listener: (name: string) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  off(event: 'mark' | 'close', listener: (name: string) => void): unknown {
    return this.stream.off(event as 'mark', listener);
  }

  /** The line's clock: other voices alone while the agent is quiet. */
  private readonly tick = (): void => {
    const now = this.clock.now();
    if (now - this.nextTickAt > MAX_CATCH_UP_MS) this.nextTickAt = now;
    while (this.nextTickAt <= now) {
      this.nextTickAt += FRAME_MS;
      if (now - this.agentSentAt < AGENT_QUIET_MS) continue;
      const frame = this.mix(undefined);
      if (frame && this.stream.sendAudio(frame)) this.opts.onFrameSent(frame);
    }
    this.cancelTick = this.clock.setTimer(this.tick, Math.max(1, this.nextTickAt - now));
  };

  private mix(agent: Buffer): Buffer;
  private mix(agent: undefined): Buffer | undefined;
  private mix(agent: Buffer | undefined): Buffer | undefined {
    if (this.voices.size === 0) return agent; // every call's frames, nobody else on the line
    const frames: Buffer[] = agent ? [agent] : [];
    for (const voice of this.voices) {
      const frame = voice.take();
      if (frame) frames.push(frame);
    }
    if (frames.length <= 1) return frames[0];
    const sum = new Int32Array(FRAME_BYTES);
    for (const frame of frames) {
      const pcm = mulawToPcm(frame);
      for (let i = 0; i < FRAME_BYTES; i++) sum[i]! += pcm[i] ?? 0;
    }
    const pcm = new Int16Array(FRAME_BYTES);
    for (let i = 0; i < FRAME_BYTES; i++) pcm[i] = Math.max(-32768, Math.min(32767, sum[i]!));
    return pcmToMulaw(pcm);
  }

  private stopClock(): void {
    this.cancelTick?.();
    this.cancelTick = undefined;
  }

  private end(): void {
    this.stopClock();
    this.voices.clear();
  }
}
