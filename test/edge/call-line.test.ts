// The caller's line with a fake clock: the agent's frames pass through, another voice is
// mixed into them or sent alone on the line's 20 ms clock, each voice's jitter queue primes,
// bounds and runs dry, and what is sent is what is recorded.
import { strict as assert } from 'node:assert';
import { mulawToPcm, pcmToMulaw } from '../../audio/mulaw';
import { CallLine } from '../../media-edge/call/call-line';
import type { PlayoutClock, PlayoutTransport } from '../../media-edge/call/playout';

class FakeClock implements PlayoutClock {
  private t = 1_000;
  private timers: { at: number; fn: () => void }[] = [];
  now = () => this.t;
  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((x) => x !== timer));
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.length;
  }
}

class FakeStream implements PlayoutTransport {
  isOpen = true;
  readonly sent: Buffer[] = [];
  private closeListeners: (() => void)[] = [];
  sendAudio(mulaw: Buffer): boolean {
    this.sent.push(Buffer.from(mulaw));
    return this.isOpen;
  }
  sendMark = () => true;
  clear = () => true;
  on(event: 'mark' | 'close', listener: (name: string) => void): unknown {
    if (event === 'close') this.closeListeners.push(() => listener(''));
    return this;
  }
  off = () => this;
  close(): void {
    this.isOpen = false;
    for (const l of this.closeListeners) l();
  }
}

const level = (value: number) => pcmToMulaw(new Int16Array(160).fill(value));
const valueOf = (frame: Buffer) => mulawToPcm(frame)[0]!;

function setUp() {
  const clock = new FakeClock();
  const stream = new FakeStream();
  const recorded: Buffer[] = [];
  const line = new CallLine(stream, { onFrameSent: (f) => recorded.push(f), clock });
  return { clock, stream, recorded, line };
}

describe('CallLine: the one path to the caller', () => {
  it('passes the agent through untouched when no other voice plays', () => {
    const { stream, recorded, line } = setUp();
    const frame = level(1000);
    assert.equal(line.sendAudio(frame), true);
    assert.deepEqual(stream.sent, [frame]);
    assert.deepEqual(recorded, [frame]);
  });

  it('sends a lone voice on its own clock, bit-exact, once 40 ms are queued', () => {
    const { clock, stream, recorded, line } = setUp();
    const voice = line.addVoice();
    const frames = [level(500), level(-700), level(900)];
    voice.push(frames[0]!);
    clock.advance(40);
    assert.equal(stream.sent.length, 0, 'priming: one frame is not enough');
    voice.push(Buffer.concat([frames[1]!, frames[2]!])); // packets need not be 20 ms
    clock.advance(60);
    assert.deepEqual(stream.sent, frames);
    assert.deepEqual(recorded, frames, 'what the caller got is what is recorded');
  });

  it("mixes a voice into the agent's frames while the agent talks (sum, clipped)", () => {
    const { clock, stream, line } = setUp();
    const voice = line.addVoice();
    voice.push(Buffer.concat([level(3000), level(3000), level(30_000)]));
    line.sendAudio(level(-1000));
    line.sendAudio(level(2000));
    line.sendAudio(level(30_000));
    clock.advance(20); // the agent is talking: the clock sends nothing of its own
    assert.equal(stream.sent.length, 3);
    const [a, b, c] = stream.sent.map(valueOf);
    assert.ok(Math.abs(a! - 2000) < 100, `${a}`);
    assert.ok(Math.abs(b! - 5000) < 200, `${b}`);
    assert.equal(c, 32124, 'clipped at the top of μ-law');
  });

  it('keeps at most 200 ms of a voice queued, dropping the oldest; runs dry into silence', () => {
    const { clock, stream, line } = setUp();
    const voice = line.addVoice();
    for (let i = 1; i <= 15; i++) voice.push(level(i * 100)); // a burst: 300 ms at once
    clock.advance(400);
    const values = stream.sent.map(valueOf);
    assert.equal(values.length, 10, 'the newest 200 ms were played');
    assert.ok(Math.abs(values[0]! - 600) < 40, `oldest kept ${values[0]}`);
    assert.ok(Math.abs(values[9]! - 1500) < 60, `newest ${values[9]}`);
  });

  it('stops its clock when the last voice leaves and when the call ends', () => {
    const { clock, stream, line } = setUp();
    const voice = line.addVoice();
    assert.equal(clock.pending, 1);
    voice.close();
    clock.advance(20);
    assert.equal(clock.pending, 0);
    const again = line.addVoice();
    again.push(Buffer.concat([level(100), level(100)]));
    stream.close();
    clock.advance(100);
    assert.equal(clock.pending, 0);
    assert.equal(stream.sent.length, 0);
  });
});
