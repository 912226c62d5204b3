// Playout against an in-memory Twilio player driven by a fake clock: the player plays what it
// receives at real-time pace and echoes each mark once the audio before it has played (and,
// as Twilio documents, echoes every pending mark at once when it receives `clear`).
import { strict as assert } from 'node:assert';
import { MULAW_SILENCE } from '../../audio/mulaw';
import {
  Playout,
  type PlaybackResult,
  type PlayoutClock,
  type PlayoutOptions,
  type PlayoutTransport,
} from '../../media-edge/call/playout';

class FakeClock implements PlayoutClock {
  private t = 1_000;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Moves time forward, firing due timers in order at their own instants. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers
        .filter((x) => x.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }
}

type Sent =
  | { type: 'media'; bytes: Buffer; at: number }
  | { type: 'mark'; name: string; at: number }
  | { type: 'clear'; at: number };

/** Twilio's side: records what the edge sends, and (when `autoEcho`) plays it in real time. */
class FakeTwilio implements PlayoutTransport {
  isOpen = true;
  readonly sent: Sent[] = [];
  /** Clock time until which received audio is still playing. */
  private playEnd = 0;
  private pendingEchoes: { name: string; cancel: () => void }[] = [];
  private markListeners = new Set<(name: string) => void>();
  private closeListeners = new Set<() => void>();
  maxBufferedMs = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly opts: { autoEcho: boolean; startDelayMs?: number } = { autoEcho: true },
  ) {}

  sendAudio(mulaw: Buffer): boolean {
    if (!this.isOpen) return false;
    const now = this.clock.now();
    this.sent.push({ type: 'media', bytes: Buffer.from(mulaw), at: now });
    const startAt = this.playEnd > now ? this.playEnd : now + (this.opts.startDelayMs ?? 0);
    this.playEnd = startAt + (mulaw.length / 160) * 20;
    this.maxBufferedMs = Math.max(this.maxBufferedMs, this.playEnd - now);
    return true;
  }

  sendMark(name: string): boolean {
    if (!this.isOpen) return false;
    const now = this.clock.now();
    this.sent.push({ type: 'mark', name, at: now });
    if (this.opts.autoEcho) {
      const entry = { name, cancel: () => {} };
      entry.cancel = this.clock.setTimer(
        () => {
          this.pendingEchoes = this.pendingEchoes.filter((e) => e !== entry);
          this.echo(name);
        },
        Math.max(0, this.playEnd - now),
      );
      this.pendingEchoes.push(entry);
    }
    return true;
  }

  clear(): boolean {
    if (!this.isOpen) return false;
    this.sent.push({ type: 'clear', at: this.clock.now() });
    this.playEnd = this.clock.now();
    const pending = this.pendingEchoes;
    this.pendingEchoes = [];
    for (const e of pending) {
      e.cancel();
      this.echo(e.name);
    }
    return true;
  }

  echo(name: string): void {
    for (const l of [...this.markListeners]) l(name);
  }

  close(): void {
    this.isOpen = false;
    for (const l of [...this.closeListeners]) l();
  }

  on(event: 'mark' | 'close', listener: ((name: string) => void) | (() => void)): this {
    if (event === 'mark') this.markListeners.add(listener);
    else this.closeListeners.add(listener as () => void);
    return this;
  }

  off(event: 'mark' | 'close', listener: ((name: string) => void) | (() => void)): this {
    if (event === 'mark') this.markListeners.delete(listener);
    else this.closeListeners.delete(listener as () => void);
    return this;
  }

  media(): Buffer[] {
    return this.sent.flatMap((s) => (s.type === 'media' ? [s.bytes] : []));
  }

  marks(): string[] {
    return this.sent.flatMap((s) => (s.type === 'mark' ? [s.name] : []));
  }

  /** What was sent, as a compact string: m = media frame, M = mark, C = clear. */
  shape(): string {
    return this.sent
      .map((s) => (s.type === 'media' ? 'm' : s.type === 'mark' ? 'M' : 'C'))
      .join('');
  }
}

/** Distinct, non-silent bytes so frames can be matched to their source. */
const audio = (ms: number, seed = 1): Buffer => {
  const buf = Buffer.alloc((ms / 20) * 160);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + seed) % 251;
  return buf;
};

/** Settled value of a promise right now (after pending microtasks), or undefined. */
async function peek<T>(promise: Promise<T>): Promise<T | undefined> {
  let value: T | undefined;
  void promise.then((v) => (value = v));
  await new Promise((resolve) => setImmediate(resolve));
  return value;
}

function setup(opts: PlayoutOptions = {}, twilio?: { autoEcho: boolean; startDelayMs?: number }) {
  const clock = new FakeClock();
  const transport = new FakeTwilio(clock, twilio);
  const playout = new Playout(transport, { clock, ...opts });
  return { clock, transport, playout };
}

describe('playout', () => {
  it('sends 160-byte frames and pads a partial last frame with μ-law silence', () => {
    const { transport, playout } = setup();
    const clip = audio(140).subarray(0, 1000); // 6.25 frames
    const handle = playout.play(clip);
    assert.equal(handle.durationMs, 140);
    const frames = transport.media();
    assert.equal(frames.length, 7);
    for (const frame of frames) assert.equal(frame.length, 160);
    assert.deepEqual(Buffer.concat(frames).subarray(0, 1000), clip);
    assert.ok(frames[6]!.subarray(40).every((b) => b === MULAW_SILENCE));
  });

  it('paces at real time, never more than leadMs ahead of the player', async () => {
    const { clock, transport, playout } = setup({ leadMs: 200 });
    const start = clock.now();
    const handle = playout.play(audio(2000));
    assert.equal(transport.media().length, 10, 'the first 200 ms go out at once');

    for (let elapsed = 5; elapsed <= 2500; elapsed += 5) {
      clock.advance(5);
      const sentMs = transport.media().length * 20;
      assert.ok(sentMs - elapsed <= 200, `${sentMs} ms sent after ${elapsed} ms`);
      assert.ok(
        sentMs >= Math.min(2000, elapsed + 180),
        `only ${sentMs} ms sent after ${elapsed} ms`,
      );
    }
    assert.ok(transport.maxBufferedMs <= 200, `player buffered ${transport.maxBufferedMs} ms`);
    // Frames went out one per 20 ms once the lead was built.
    const times = transport.sent.flatMap((s) => (s.type === 'media' ? [s.at - start] : []));
    assert.deepEqual(times.slice(10, 15), [20, 40, 60, 80, 100]);

    const result = await handle.done;
    assert.equal(result.status, 'completed');
    assert.equal(result.heardMs, 2000);
    assert.equal(playout.isSpeaking, false);
  });

  it('sends a mark after every chunk and after the last frame of each play', () => {
    const { clock, transport, playout } = setup({ chunkMs: 100 }, { autoEcho: false });
    playout.play(audio(240)); // 12 frames: marks after 5, 10, 12
    playout.play(audio(60, 3)); // 3 frames: one mark at its end
    clock.advance(1000);
    assert.equal(transport.shape(), 'mmmmmMmmmmmMmmMmmmM');
    assert.deepEqual(transport.marks(), ['po1.0', 'po1.1', 'po1.2', 'po2.0']);

    const wide = setup({ chunkMs: 200 }, { autoEcho: false });
    wide.playout.play(audio(240));
    wide.clock.advance(1000);
    assert.equal(wide.transport.shape(), 'mmmmmmmmmmMmmM');
  });

  it('isSpeaking follows the echoed marks, not the sends', async () => {
    const changes: boolean[] = [];
    const { clock, transport, playout } = setup(
      { onSpeakingChange: (s) => changes.push(s) },
      { autoEcho: false },
    );
    assert.equal(playout.isSpeaking, false);
    const handle = playout.play(audio(300));
    assert.equal(playout.isSpeaking, true);
    clock.advance(1_000);
    assert.equal(transport.media().length, 15, 'everything sent');
    assert.equal(playout.queuedMs, 0);
    assert.equal(playout.isSpeaking, true, 'still speaking: no mark echoed yet');

    const [m0, m1, m2] = transport.marks();
    transport.echo(m0!);
    transport.echo(m1!);
    assert.equal(playout.isSpeaking, true);
    assert.equal(await peek(handle.done), undefined, 'not done before the last mark');
    transport.echo(m2!);
    assert.equal(playout.isSpeaking, false);
    assert.deepEqual(await handle.done, {
      id: 1,
      status: 'completed',
      durationMs: 300,
      heardMs: 300,
    });
    assert.deepEqual(changes, [true, false]);
  });

  it('plays queued clips back to back and settles them in order', async () => {
    const { clock, transport, playout } = setup();
    const a = playout.play(audio(100, 1), { label: 'a' });
    const b = playout.play(audio(100, 2), { label: 'b' });
    clock.advance(150); // a's last mark echoed at 100 ms, b's due at 200 ms
    assert.equal((await peek(a.done))?.status, 'completed');
    assert.equal(await peek(b.done), undefined);
    clock.advance(100);
    assert.equal((await peek(b.done))?.status, 'completed');
    assert.deepEqual(
      Buffer.concat(transport.media()),
      Buffer.concat([audio(100, 1), audio(100, 2)]),
    );
  });

  it('interrupt sends clear, stops sending and reports the heard ms from echoed marks', async () => {
    const { clock, transport, playout } = setup({ leadMs: 200, chunkMs: 100 });
    const first = playout.play(audio(1000), { label: 'reply' });
    const second = playout.play(audio(500), { label: 'follow-up' });
    clock.advance(350); // marks at 100, 200, 300 ms of audio have been echoed
    const sentBefore = transport.media().length;
    assert.equal(sentBefore, 27, '350 ms played + 200 ms lead, rounded down to frames');

    const result = playout.interrupt();
    assert.equal(result.cleared, true);
    assert.deepEqual(result.playbacks, [
      { id: 1, label: 'reply', status: 'interrupted', durationMs: 1000, heardMs: 300 },
      { id: 2, label: 'follow-up', status: 'interrupted', durationMs: 500, heardMs: 0 },
    ]);
    assert.equal(transport.sent.at(-1)?.type, 'clear');
    assert.equal(playout.isSpeaking, false);
    assert.equal((await first.done).status, 'interrupted');
    assert.equal((await second.done).heardMs, 0);

    // The player echoed the cleared marks at once; they must not count as played.
    assert.equal(playout.stats.marksEchoed, 3);
    clock.advance(1_000);
    assert.equal(transport.media().length, sentBefore, 'nothing sent after the clear');
    assert.deepEqual(playout.interrupt(), { cleared: false, playbacks: [] }, 'idle: no clear');

    // Speaking again after a barge-in works normally.
    const next = playout.play(audio(100));
    clock.advance(200);
    assert.equal((await next.done).status, 'completed');
  });

  it('pause clears and stops sending; resume goes on from the first chunk not heard, to the end', async () => {
    const { clock, transport, playout } = setup({ leadMs: 200, chunkMs: 100 });
    const first = playout.play(audio(1000, 1), { label: 'reply' });
    const second = playout.play(audio(500, 2), { label: 'follow-up' });
    clock.advance(350); // marks at 100, 200, 300 ms of audio have been echoed
    const sentBefore = transport.media().length;

    const paused = playout.pause();
    assert.deepEqual(paused, [
      { id: 1, label: 'reply', status: 'interrupted', durationMs: 1000, heardMs: 300 },
      { id: 2, label: 'follow-up', status: 'interrupted', durationMs: 500, heardMs: 0 },
    ]);
    assert.equal(transport.sent.at(-1)?.type, 'clear');
    assert.equal(playout.stats.clears, 1);
    assert.equal(playout.isSpeaking, true, 'a paused reply is still to be said');
    assert.equal(await peek(first.done), undefined, 'not settled while paused');
    assert.deepEqual(playout.pause(), [], 'already paused');
    clock.advance(2_000);
    assert.equal(transport.media().length, sentBefore, 'nothing sent while paused');
    const late = playout.play(audio(100, 3));
    clock.advance(100);
    assert.equal(transport.media().length, sentBefore, 'a play while paused waits too');

    playout.resume();
    clock.advance(2_000);
    assert.equal((await first.done).status, 'completed');
    assert.equal((await second.done).status, 'completed');
    assert.equal((await late.done).status, 'completed');
    // After the clear: the reply from 300 ms on (nothing of it skipped), then the rest.
    const afterClear = transport.sent.slice(transport.sent.findIndex((x) => x.type === 'clear'));
    const resent = Buffer.concat(afterClear.flatMap((x) => (x.type === 'media' ? [x.bytes] : [])));
    assert.deepEqual(
      resent,
      Buffer.concat([audio(1000, 1).subarray(300 * 8), audio(500, 2), audio(100, 3)]),
    );
  });

  it('interrupt after a pause cuts with what was heard before the pause, without a second clear', async () => {
    const { clock, transport, playout } = setup({ leadMs: 200, chunkMs: 100 });
    const reply = playout.play(audio(1000), { label: 'reply' });
    clock.advance(250);
    playout.pause();
    clock.advance(1_000);
    const result = playout.interrupt();
    assert.equal(result.cleared, true);
    assert.deepEqual(result.playbacks, [
      { id: 1, label: 'reply', status: 'interrupted', durationMs: 1000, heardMs: 200 },
    ]);
    assert.equal((await reply.done).status, 'interrupted');
    assert.equal(playout.stats.clears, 1);
    assert.equal(transport.sent.filter((x) => x.type === 'clear').length, 1);
    assert.equal(playout.isSpeaking, false);
    const next = playout.play(audio(100));
    clock.advance(200);
    assert.equal((await next.done).status, 'completed', 'not paused after the cut');
  });

  it('slows down when the echoes show the player started late (jitter buffer)', () => {
    const { clock, transport, playout } = setup(
      { leadMs: 200, chunkMs: 100 },
      {
        autoEcho: true,
        startDelayMs: 150,
      },
    );
    playout.play(audio(3000));
    clock.advance(1_500);
    // Unplayed audio at the player: bounded by the lead plus the mark spacing, not lead + 150.
    const now = clock.now();
    const sentMs = transport.media().length * 20;
    const playedMs = now - 1_000 - 150;
    assert.ok(sentMs - playedMs <= 200 + 100, `player holds ${sentMs - playedMs} ms`);
    assert.ok(sentMs - playedMs >= 150, `player starved: holds ${sentMs - playedMs} ms`);
  });

  it('settles pending playbacks as aborted when the stream closes', async () => {
    const { clock, transport, playout } = setup();
    const handle = playout.play(audio(1000));
    clock.advance(100);
    transport.close();
    const result: PlaybackResult = await handle.done;
    assert.equal(result.status, 'aborted');
    assert.equal(playout.isSpeaking, false);
    const after = playout.play(audio(100));
    assert.equal((await after.done).status, 'aborted');
  });

  it('drain() waits for the last echoed mark, or for an interrupt', async () => {
    const { clock, playout } = setup();
    await playout.drain(); // idle: at once
    playout.play(audio(100));
    playout.play(audio(100));
    const drained = playout.drain();
    clock.advance(150);
    assert.equal(await peek(drained.then(() => 'drained')), undefined);
    clock.advance(60);
    assert.equal(await peek(drained.then(() => 'drained')), 'drained');

    playout.play(audio(1000));
    const cut = playout.drain();
    clock.advance(100);
    playout.interrupt();
    assert.equal(await peek(cut.then(() => 'drained')), 'drained');
  });

  it('ignores marks that are not its own', () => {
    const { transport, playout } = setup({}, { autoEcho: false });
    playout.play(audio(40));
    transport.echo('someone-else');
    transport.echo('po99.0');
    assert.equal(playout.isSpeaking, true);
    assert.equal(playout.stats.marksEchoed, 0);
  });
});
