// Both sides of a call as a two-channel recording on the caller's timeline: channel 0 is
// the caller, channel 1 the agent. Agent frames land at the caller frame being received
// when they were sent, so the two line up as the caller heard them. Bounded: past
// maxMs nothing more is kept (and the recording says it was truncated).
import { encodeWav } from '../../audio/wav';

const RATE = 8000;
const FRAME = 160;

export class CallRecorder {
  private readonly callerFrames: Int16Array[] = [];
  private readonly agentFrames: (Int16Array | undefined)[] = [];
  private agentCursor = 0;
  private readonly maxFrames: number;
  truncated = false;

  constructor(maxMs = 60 * 60 * 1000) {
    this.maxFrames = Math.floor(maxMs / 20);
  }

  caller(frame: Int16Array): void {
    if (this.callerFrames.length >= this.maxFrames) {
      this.truncated = true;
      return;
    }
    this.callerFrames.push(frame);
  }

  /** Agent audio as it is sent to the caller (any length; split into 20 ms frames). */
  agent(pcm: Int16Array): void {
    this.agentCursor = Math.max(this.agentCursor, this.callerFrames.length);
    for (let i = 0; i < pcm.length; i += FRAME) {
      if (this.agentCursor >= this.maxFrames) {
        this.truncated = true;
        return;
      }
      this.agentFrames[this.agentCursor++] = pcm.subarray(i, i + FRAME);
    }
  }

  get durationMs(): number {
    return Math.max(this.callerFrames.length, this.agentFrames.length) * 20;
  }

  toWav(): Buffer {
    const frames = Math.max(this.callerFrames.length, this.agentFrames.length);
    const caller = new Int16Array(frames * FRAME);
    const agent = new Int16Array(frames * FRAME);
    this.callerFrames.forEach((f, i) => caller.set(f, i * FRAME));
    this.agentFrames.forEach((f, i) => f && agent.set(f, i * FRAME));
    return encodeWav({ channels: [caller, agent], sampleRate: RATE });
  }
}
