// Playout of the agent's audio on one media stream: 20 ms media frames (160 bytes μ-law) at
// real-time pace, a mark after every chunk, and barge-in (a pause that may resume, or a cut).
//
// Why pace instead of sending a whole reply at once: Twilio buffers whatever it is sent, so
// the audio would leave our hands; `clear` would still stop it, but then nothing on our side
// knows what is queued, and a reply being synthesized could not be cut at a frame boundary.
// So at most `leadMs` (default 200 ms) of audio is ahead of what Twilio is playing: enough to
// ride out timer and network jitter, small enough that a clear discards little.
//
// Why a mark every chunk (default 100 ms) and not one per play(): Twilio echoes a mark when
// the audio before it has played, so the echoes are the ground truth for "the agent is still
// speaking" and for how much of an interrupted reply the caller actually heard (reported to
// the transcript). Their spacing is the resolution of that figure; 100 ms is finer than a
// spoken syllable and costs 10 tiny messages a second each way.
//
// Time comes from an injectable clock so tests can drive the pace exactly.
import { MULAW_SILENCE } from '../../audio/mulaw';
import { FRAME_BYTES, FRAME_MS } from '../twilio/media-stream-protocol';

/** The part of a MediaStreamSession that playout drives. */
export interface PlayoutTransport {
  readonly isOpen: boolean;
  sendAudio(mulaw: Buffer): boolean;
  sendMark(name: string): boolean;
  clear(): boolean;
  on(event: 'mark', listener: (name: string) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'mark', listener: (name: string) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export interface PlayoutClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: PlayoutClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface PlayoutOptions {
  /** Audio sent ahead of what Twilio has played, at most (ms, ≥ 20). Default 200. */
  leadMs?: number;
  /** Audio between two marks (ms, rounded to whole frames, ≥ 20). Default 100. */
  chunkMs?: number;
  clock?: PlayoutClock;
  /** Prefix of our mark names, so marks of other senders are told apart. Default "po". */
  markPrefix?: string;
  /** Called when isSpeaking changes. */
  onSpeakingChange?: (speaking: boolean) => void;
}

/** completed: every mark echoed; interrupted: interrupt(); aborted: stream closed / disposed. */
export type PlaybackStatus = 'completed' | 'interrupted' | 'aborted';

export interface PlaybackResult {
  id: number;
  label?: string;
  status: PlaybackStatus;
  durationMs: number;
  /** Audio Twilio confirmed as played (by echoed marks): a lower bound, chunk-accurate. */
  heardMs: number;
}

export interface PlaybackHandle {
  readonly id: number;
  readonly label?: string;
  readonly durationMs: number;
  /** Settles (never rejects) when the last mark is echoed, or on interrupt / close. */
  readonly done: Promise<PlaybackResult>;
}

export interface InterruptResult {
  /** Whether a `clear` was sent (only when something was playing or queued). */
  cleared: boolean;
  /** Every playback that was cut, in play() order. */
  playbacks: PlaybackResult[];
}

export interface PlayoutStats {
  framesSent: number;
  marksSent: number;
  marksEchoed: number;
  clears: number;
}

interface Playback {
  id: number;
  label?: string;
  audio: Buffer;
  offset: number;
  durationMs: number;
  sentMs: number;
  heardMs: number;
  framesInChunk: number;
  chunks: number;
  result?: PlaybackResult;
  resolve: (result: PlaybackResult) => void;
}

interface PendingMark {
  name: string;
  playback: Playback;
  /** The playback's audio before this mark. */
  playedMs: number;
  last: boolean;
  /** All audio sent before this mark (for correcting the pace model on its echo). */
  sentTotalMs: number;
}

/** How many names of cleared marks are remembered, to ignore their late echoes. */
const CLEARED_MEMORY = 1024;

export class Playout {
  private readonly leadMs: number;
  private readonly framesPerChunk: number;
  private readonly clock: PlayoutClock;
  private readonly markPrefix: string;
  private readonly onSpeakingChange: ((speaking: boolean) => void) | undefined;

  private queue: Playback[] = [];
  private marks: PendingMark[] = [];
  private readonly markByName = new Map<string, PendingMark>();
  private readonly clearedMarks = new Set<string>();
  /** Clock time at which everything sent so far will have played (our model of Twilio). */
  private aheadUntil = 0;
  private sentTotalMs = 0;
  private cancelTimer: (() => void) | undefined;
  private nextId = 1;
  private speaking = false;
  private disposed = false;
  /** Paused by a possible barge-in: nothing is sent until resume() (or a cut). */
  private paused = false;
  private drainWaiters: (() => void)[] = [];
  private readonly counters: PlayoutStats = {
    framesSent: 0,
    marksSent: 0,
    marksEchoed: 0,
    clears: 0,
  };

  constructor(
    private readonly transport: PlayoutTransport,
    options: PlayoutOptions = {},
  ) {
    this.leadMs = Math.max(FRAME_MS, options.leadMs ?? 200);
    this.framesPerChunk = Math.max(1, Math.round((options.chunkMs ?? 100) / FRAME_MS));
    this.clock = options.clock ?? systemClock;
    this.markPrefix = options.markPrefix ?? 'po';
    this.onSpeakingChange = options.onSpeakingChange;
    transport.on('mark', this.onMark);
    transport.on('close', this.onClose);
  }

  /** True while audio is queued or sent audio has not been confirmed played. */
  get isSpeaking(): boolean {
    return this.queue.length > 0 || this.marks.length > 0;
  }

  /** Audio queued here and not yet sent. */
  get queuedMs(): number {
    return this.queue.reduce((ms, p) => ms + p.durationMs - p.sentMs, 0);
  }

  get stats(): Readonly<PlayoutStats> {
    return { ...this.counters };
  }

  /** Queues μ-law audio after whatever is playing; a partial last frame is padded with silence. */
  play(mulaw: Buffer, opts: { label?: string } = {}): PlaybackHandle {
    let resolve!: (result: PlaybackResult) => void;
    const done = new Promise<PlaybackResult>((r) => (resolve = r));
    const playback: Playback = {
      id: this.nextId++,
      ...(opts.label !== undefined && { label: opts.label }),
      audio: mulaw,
      offset: 0,
      durationMs: Math.ceil(mulaw.length / FRAME_BYTES) * FRAME_MS,
      sentMs: 0,
      heardMs: 0,
      framesInChunk: 0,
      chunks: 0,
      resolve,
    };
    const handle: PlaybackHandle = {
      id: playback.id,
      ...(playback.label !== undefined && { label: playback.label }),
      durationMs: playback.durationMs,
      done,
    };
    if (this.disposed || !this.transport.isOpen) {
      this.settle(playback, 'aborted');
    } else if (mulaw.length === 0) {
      this.settle(playback, 'completed');
    } else {
      this.queue.push(playback);
      if (!this.paused) this.pump();
      this.speakingMayHaveChanged();
    }
    return handle;
  }

  /**
   * Barge-in: stops sending, sends `clear` (if anything was playing or queued), and settles
   * every pending playback as interrupted with how much of it Twilio had confirmed played.
   */
  interrupt(): InterruptResult {
    const wasPaused = this.paused;
    this.paused = false;
    if (!this.isSpeaking) return { cleared: false, playbacks: [] };
    // Cut first: Twilio answers `clear` by echoing every pending mark, and those echoes must
    // not count as played audio.
    const playbacks = this.cutAll('interrupted');
    // A paused playout sent nothing since its pause's clear: Twilio's buffer is empty.
    if (wasPaused) return { cleared: true, playbacks };
    const cleared = this.transport.isOpen && this.transport.clear();
    if (cleared) this.counters.clears += 1;
    return { cleared, playbacks };
  }

  /**
   * A possible barge-in: stops sending and clears Twilio's buffer like interrupt(), but keeps
   * every pending playback, rewound to where the caller is known to have heard it, so resume()
   * can go on from there. We back up to the start of the first chunk whose mark had not come
   * back: the caller heard at most that chunk and the lead after it (≤ 300 ms at the
   * defaults), so resuming repeats a syllable or two and never skips a word. Returns the
   * paused playbacks in play() order (what was heard of each); none when nothing played.
   */
  pause(): PlaybackResult[] {
    if (!this.isSpeaking || this.paused) return [];
    this.paused = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const pending = new Map<number, Playback>();
    for (const mark of this.marks) {
      pending.set(mark.playback.id, mark.playback);
      this.clearedMarks.add(mark.name); // Twilio echoes them on `clear`: not played
    }
    for (const playback of this.queue) pending.set(playback.id, playback);
    this.marks = [];
    this.markByName.clear();
    this.queue = [...pending.values()].sort((a, b) => a.id - b.id);
    for (const playback of this.queue) {
      playback.offset = (playback.heardMs / FRAME_MS) * FRAME_BYTES;
      playback.sentMs = playback.heardMs;
      playback.framesInChunk = 0;
    }
    this.aheadUntil = this.clock.now();
    if (this.transport.isOpen && this.transport.clear()) this.counters.clears += 1;
    return this.queue.map((p) => ({
      id: p.id,
      ...(p.label !== undefined && { label: p.label }),
      status: 'interrupted' as const,
      durationMs: p.durationMs,
      heardMs: p.heardMs,
    }));
  }

  /** After pause(): sends the paused playbacks (and anything queued since) from where they stopped. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.disposed) this.pump();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Resolves once nothing is queued or unconfirmed: played out, interrupted or aborted. */
  drain(): Promise<void> {
    if (!this.isSpeaking) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Settles everything as aborted and detaches from the transport. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cutAll('aborted');
    this.transport.off('mark', this.onMark);
    this.transport.off('close', this.onClose);
  }

  private pump(): void {
    if (this.paused) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const now = this.clock.now();
    if (this.aheadUntil < now) this.aheadUntil = now; // idle or underrun: Twilio plays at once
    let blocked = false;
    while (this.queue.length > 0 && this.aheadUntil + FRAME_MS - now <= this.leadMs) {
      const playback = this.queue[0]!;
      const frame = this.frameOf(playback);
      if (!this.transport.sendAudio(frame)) {
        if (!this.transport.isOpen) return void this.cutAll('aborted');
        blocked = true; // send buffer full: retry in a frame's time
        break;
      }
      playback.offset += FRAME_BYTES;
      playback.sentMs += FRAME_MS;
      playback.framesInChunk += 1;
      this.aheadUntil += FRAME_MS;
      this.sentTotalMs += FRAME_MS;
      this.counters.framesSent += 1;
      const last = playback.offset >= playback.audio.length;
      if (last || playback.framesInChunk >= this.framesPerChunk) {
        if (!this.sendMark(playback, last)) return void this.cutAll('aborted');
      }
      if (last) this.queue.shift();
    }
    if (this.queue.length > 0) {
      const wait = blocked ? FRAME_MS : this.aheadUntil + FRAME_MS - this.leadMs - now;
      this.cancelTimer = this.clock.setTimer(() => this.pump(), Math.max(1, wait));
    }
  }

  private frameOf(playback: Playback): Buffer {
    const end = playback.offset + FRAME_BYTES;
    if (end <= playback.audio.length) return playback.audio.subarray(playback.offset, end);
    const frame = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
    playback.audio.copy(frame, 0, playback.offset);
    return frame;
  }

  private sendMark(playback: Playback, last: boolean): boolean {
    const name = `${this.markPrefix}${playback.id}.${playback.chunks}`;
    if (!this.transport.sendMark(name)) return false;
    playback.chunks += 1;
    playback.framesInChunk = 0;
    const mark: PendingMark = {
      name,
      playback,
      playedMs: playback.sentMs,
      last,
      sentTotalMs: this.sentTotalMs,
    };
    this.marks.push(mark);
    this.markByName.set(name, mark);
    this.counters.marksSent += 1;
    return true;
  }

  private readonly onMark = (name: string): void => {
    const echoed = this.markByName.get(name);
    if (!echoed) {
      this.clearedMarks.delete(name); // a late echo of a cleared mark, or not ours
      return;
    }
    // Twilio plays in order: this echo means every earlier mark has played as well.
    while (this.marks.length > 0) {
      const mark = this.marks.shift()!;
      this.markByName.delete(mark.name);
      this.counters.marksEchoed += 1;
      mark.playback.heardMs = mark.playedMs;
      if (mark.last) this.settle(mark.playback, 'completed');
      if (mark === echoed) break;
    }
    // Correct the model: whatever was sent after this mark still has to play from now on.
    const stillToPlay = this.sentTotalMs - echoed.sentTotalMs;
    this.aheadUntil = Math.max(this.aheadUntil, this.clock.now() + stillToPlay);
    this.speakingMayHaveChanged();
  };

  private readonly onClose = (): void => {
    this.cutAll('aborted');
  };

  /** Drops everything queued or unconfirmed; settles each affected playback once. */
  private cutAll(status: 'interrupted' | 'aborted'): PlaybackResult[] {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const affected = new Map<number, Playback>();
    for (const mark of this.marks) {
      affected.set(mark.playback.id, mark.playback);
      this.clearedMarks.add(mark.name);
    }
    for (const playback of this.queue) affected.set(playback.id, playback);
    while (this.clearedMarks.size > CLEARED_MEMORY) {
      this.clearedMarks.delete(this.clearedMarks.values().next().value!);
    }
    this.marks = [];
    this.markByName.clear();
    this.queue = [];
    this.aheadUntil = this.clock.now();
    const results = [...affected.values()]
      .sort((a, b) => a.id - b.id)
      .map((playback) => this.settle(playback, status));
    this.speakingMayHaveChanged();
    return results;
  }

  private settle(playback: Playback, status: PlaybackStatus): PlaybackResult {
    if (playback.result) return playback.result;
    playback.result = {
      id: playback.id,
      ...(playback.label !== undefined && { label: playback.label }),
      status,
      durationMs: playback.durationMs,
      heardMs: status === 'completed' ? playback.durationMs : playback.heardMs,
    };
    playback.resolve(playback.result);
    return playback.result;
  }

  private speakingMayHaveChanged(): void {
    const speaking = this.isSpeaking;
    if (speaking === this.speaking) return;
    this.speaking = speaking;
    if (!speaking) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.onSpeakingChange?.(speaking);
  }
}
