// A caller that behaves like Twilio towards the media-edge, with real audio:
//   1. POSTs the signed incoming-call webhook and follows the TwiML's <Connect><Stream>;
//   2. opens the Media Streams WebSocket (X-Twilio-Signature over the public wss:// URL) and
//      sends `connected` and `start` with the <Parameter>s (the per-call token among them);
//   3. streams the caller's line continuously, one 160-byte μ-law frame per 20 ms of audio:
//      script lines (synthesized offline in a voice other than the agent's, or WAV files) and,
//      between them, low line noise, as a real phone line never carries pure digital silence;
//   4. plays the agent's audio on a playback clock the way Twilio does: media is queued and
//      drains at 8000 samples/s (× pace); a `mark` is echoed when the audio sent before it has
//      played; `clear` drops what has not played and echoes every pending mark at once;
//   5. hangs up with `stop`, closes the socket and POSTs the signed `completed` status callback.
// Each step's reply is the agent audio that starts after the step began; voice-to-voice latency
// is from the caller's last voiced frame sent to the reply's first media frame received.
//
// Pace: `pace` 4 sends the caller's audio four times faster and plays the agent's four times
// faster (marks come back sooner). Durations in the script and the recording are audio time;
// latencies are wall-clock time. The edge paces its own sending, so agent audio still arrives
// at the edge's speed.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import WebSocket, { type RawData } from 'ws';
import type { SpeechToText } from '../providers/stt/port';
import type { TextToSpeech } from '../providers/tts/port';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import { LocalTts } from '../providers/tts/local';
import { mulawToPcm, pcmToMulaw } from '../audio/mulaw';
import { resample } from '../audio/resample';
import { decodeWav, encodeWav } from '../audio/wav';
import {
  FRAME_BYTES,
  FRAME_MS,
  MULAW_SAMPLE_RATE,
  parseOutbound,
  type ParsedOutbound,
  rawToString,
} from '../media-edge/twilio/media-stream-protocol';
import { callWorkflowId } from '../contracts/call';
import { describeItem, type CallerScriptItem } from './caller-script';
import { callSidFor } from './call-sid';
import { postSignedWebhook } from './twilio-http';

// ---- options and report ---------------------------------------------------------------

/** The caller's voice: not the agent's (flite `rms`), and one the local ASR still understands. */
export const DEFAULT_CALLER_VOICE = { engine: 'flite', voice: 'kal' } as const;

export interface AgentTranscriber {
  stt: SpeechToText;
  /** Phrases the agent is expected to say (pocketsphinx: a grammar); none: dictation. */
  hints?: string[];
}

export interface AudioCallOptions {
  /** Where the edge listens, e.g. http://127.0.0.1:8080. */
  edgeUrl: string;
  /** The public URL the edge validates signatures against (EDGE_PUBLIC_URL). */
  publicUrl: string;
  authToken: string;
  from: string;
  to: string;
  script: CallerScriptItem[];
  /** Audio time per wall-clock time: 1 real time (default), 4 four times faster. */
  pace?: number;
  /** Synthesizes `say` lines; default LocalTts with DEFAULT_CALLER_VOICE. */
  callerTts?: TextToSpeech;
  /** Peak amplitude (16-bit PCM) of the line noise between and under lines; 0 = digital silence. Default 32. */
  lineNoise?: number;
  /** The agent's reply has ended after this long without new media and its audio played. Default 400. */
  agentQuietMs?: number;
  /** How long (wall ms) to wait for a reply to start before going on without one. Default 15000. */
  replyTimeoutMs?: number;
  /** The caller hangs up after this long (wall ms) whatever the script says. Default 300000. */
  maxCallMs?: number;
  /** Audio time the caller takes after a reply ends before the next step. Default 200. */
  thinkMs?: number;
  /** Audio time between two keys of one --dtmf step. Default 250. */
  dtmfGapMs?: number;
  /** Transcribes each agent reply after the call (not during it, to leave the CPU to the edge). */
  transcriber?: AgentTranscriber;
  /** Live progress; default console.log. */
  print?: (line: string) => void;
  /** POST the `completed` status callback at the end. Default true. */
  statusCallback?: boolean;
  /** The call's Twilio CallSid (`CA` + 32 hex characters); default a random one. */
  callSid?: string;
  accountSid?: string;
  /**
   * A patient caller: asked after each reply heard to the end, true when the agent asked for
   * the last line (or keys) again; the caller then says (keys) it once more. Default: never.
   */
  askedAgain?: () => Promise<boolean>;
}

export interface AudioCallTurn {
  index: number;
  /** The script step; absent for turn 0, the agent's greeting. */
  item?: CallerScriptItem;
  /** Printable form of the step. */
  caller?: string;
  /** The step started while the agent was speaking (--interrupt-after). */
  bargedIn: boolean;
  /** Audio the caller sent for this step (say/audio), ms. */
  callerAudioMs: number;
  /** Agent audio of the reply as played (cut at a clear), ms. */
  agentAudioMs: number;
  /** Agent audio of the reply as received, ms. */
  agentReceivedMs: number;
  agentTranscript?: string;
  /** say/audio: last voiced caller frame sent → first reply media received (wall ms). */
  voiceToVoiceMs?: number;
  /** First reply media after: `start` (greeting), the last voiced frame, the last key, the pause's start. */
  replyAfterMs?: number;
  /** A `clear` cut this turn's reply. */
  replyCleared: boolean;
  /** A `clear` arrived during this step (before the next began): step start → clear (wall ms). */
  clearAfterMs?: number;
  /** No reply started within replyTimeoutMs (or before the call ended). */
  noReply: boolean;
  /** Wall ms since the stream started. */
  startedAtMs: number;
  lastVoicedAtMs?: number;
  replyStartedAtMs?: number;
}

export interface MarkEcho {
  name: string;
  /** Wall ms since the stream started. */
  receivedAtMs: number;
  echoedAtMs: number;
  /** Echoed because of a `clear`, not because its audio played. */
  cleared: boolean;
}

export interface CallRecording {
  sampleRate: number;
  /** Both in audio time from the stream's start, the same length. */
  caller: Int16Array;
  agent: Int16Array;
}

export interface AudioCallReport {
  callSid: string;
  streamSid: string;
  workflowId: string;
  pace: number;
  turns: AudioCallTurn[];
  /** caller: the script ended or hung up; edge: the edge closed the stream (agent hang-up or a refusal). */
  endedBy: 'caller' | 'edge';
  close: { code: number; reason: string };
  recording: CallRecording;
  marks: MarkEcho[];
  clears: number;
  framesSent: number;
  mediaReceived: number;
  /** Messages from the edge that do not follow the protocol (they are otherwise ignored). */
  protocolErrors: string[];
  /** Wall ms from `start` to hang-up; audio ms of the call. */
  durationMs: number;
  audioMs: number;
  /** CPU of this whole process during the call (the edge's too when it runs in-process). */
  cpu: { userMs: number; systemMs: number; perCallSecondMs: number };
}

// ---- audio ------------------------------------------------------------------------------

/** A frame whose RMS is above this (≈ −41 dBFS) counts as the caller's voice. */
const VOICED_RMS = 300;
const NOISE_BANK_FRAMES = 50;

/** A step's audio, ready to send: whole frames of μ-law with the line noise mixed in. */
interface CallerClip {
  frames: Buffer[];
  /** Index of the last frame with voice in it (-1: none). */
  lastVoicedFrame: number;
  durationMs: number;
}

/** Deterministic white noise (xorshift32). */
class LineNoise {
  private state: number;
  private readonly bank: Buffer[] = [];
  private next = 0;

  constructor(
    private readonly amplitude: number,
    seed = 0x9e3779b9,
  ) {
    this.state = seed >>> 0 || 1;
    const pcm = new Int16Array(FRAME_BYTES);
    for (let f = 0; f < NOISE_BANK_FRAMES; f++) {
      pcm.fill(0);
      this.addTo(pcm);
      this.bank.push(pcmToMulaw(pcm));
    }
  }

  addTo(pcm: Int16Array): void {
    if (this.amplitude <= 0) return;
    for (let i = 0; i < pcm.length; i++) {
      let s = this.state;
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      this.state = s >>>= 0;
      const v = pcm[i]! + Math.round((s / 0xffffffff - 0.5) * 2 * this.amplitude);
      pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
  }

  /** One frame of line noise (a rotating bank: no work per frame). */
  frame(): Buffer {
    const f = this.bank[this.next]!;
    this.next = (this.next + 1) % NOISE_BANK_FRAMES;
    return f;
  }
}

function toClip(pcm: Int16Array, noise: LineNoise): CallerClip {
  const count = Math.ceil(pcm.length / FRAME_BYTES);
  const padded = new Int16Array(count * FRAME_BYTES);
  padded.set(pcm);
  let lastVoicedFrame = -1;
  for (let f = 0; f < count; f++) {
    let energy = 0;
    for (let i = f * FRAME_BYTES; i < (f + 1) * FRAME_BYTES; i++) energy += padded[i]! ** 2;
    if (Math.sqrt(energy / FRAME_BYTES) > VOICED_RMS) lastVoicedFrame = f;
  }
  noise.addTo(padded);
  const mulaw = pcmToMulaw(padded);
  const frames: Buffer[] = [];
  for (let f = 0; f < count; f++)
    frames.push(mulaw.subarray(f * FRAME_BYTES, (f + 1) * FRAME_BYTES));
  return { frames, lastVoicedFrame, durationMs: count * FRAME_MS };
}

/** A WAV file of any rate and channel count as 8 kHz mono PCM. */
export async function readCallerWav(path: string): Promise<Int16Array> {
  const { channels, sampleRate } = decodeWav(await readFile(path));
  let mono = channels[0]!;
  if (channels.length > 1) {
    mono = new Int16Array(mono.length);
    for (let i = 0; i < mono.length; i++) {
      let sum = 0;
      for (const ch of channels) sum += ch[i]!;
      mono[i] = Math.round(sum / channels.length);
    }
  }
  return sampleRate === MULAW_SAMPLE_RATE ? mono : resample(mono, sampleRate, MULAW_SAMPLE_RATE);
}

/** Synthesizes and loads every step's audio before dialling, so none of it happens mid-call. */
async function prepareClips(
  script: CallerScriptItem[],
  tts: TextToSpeech,
  noise: LineNoise,
): Promise<Map<CallerScriptItem, CallerClip>> {
  const clips = new Map<CallerScriptItem, CallerClip>();
  const spoken = new Map<string, Int16Array>();
  for (const item of script) {
    if (item.kind === 'say') {
      let pcm = spoken.get(item.text);
      if (!pcm) {
        pcm = mulawToPcm((await tts.synthesize(item.text)).mulaw);
        spoken.set(item.text, pcm);
      }
      clips.set(item, toClip(pcm, noise));
    } else if (item.kind === 'audio') {
      const pcm = await readCallerWav(item.path).catch((err: unknown) => {
        throw new Error(
          `--audio ${item.path}: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
      if (pcm.length === 0) throw new Error(`--audio ${item.path}: the file holds no audio`);
      clips.set(item, toClip(pcm, noise));
    }
  }
  return clips;
}

/** 16-bit PCM that grows as it is written at arbitrary positions. */
class GrowingPcm {
  private buf = new Int16Array(MULAW_SAMPLE_RATE * 10);
  length = 0;

  write(at: number, pcm: Int16Array): void {
    const end = at + pcm.length;
    if (end > this.buf.length) {
      const bigger = new Int16Array(Math.max(end, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    this.buf.set(pcm, at);
    this.length = Math.max(this.length, end);
  }

  /** Silences [from, to) (cleared audio that never played). */
  erase(from: number, to: number): void {
    this.buf.fill(0, Math.max(0, from), Math.min(this.length, to));
  }

  take(length: number): Int16Array {
    const out = new Int16Array(length);
    out.set(this.buf.subarray(0, Math.min(length, this.length)));
    return out;
  }
}

// ---- the caller's line: one frame per 20 ms of audio, without drift ----------------------

interface Playing {
  clip: CallerClip;
  next: number;
  lastVoicedAt?: number;
  done: (lastVoicedAt: number | undefined) => void;
}

class CallerLine {
  readonly sentFrames: Buffer[] = [];
  private t0 = 0;
  private timer: NodeJS.Timeout | undefined;
  private playing: Playing | undefined;
  private stopped = false;

  constructor(
    private readonly frameWallMs: number,
    private readonly noise: LineNoise,
    private readonly send: (frame: Buffer, index: number) => void,
    private readonly onTick: (now: number) => void,
  ) {}

  start(now: number): void {
    this.t0 = now;
    this.tick();
  }

  /** Sends the clip from the next frame on; resolves with when its last voiced frame went out. */
  play(clip: CallerClip): Promise<number | undefined> {
    if (this.stopped || this.playing) {
      return Promise.reject(new Error(this.stopped ? 'the line is closed' : 'already speaking'));
    }
    return new Promise((done) => (this.playing = { clip, next: 0, done }));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const playing = this.playing;
    this.playing = undefined;
    playing?.done(playing.lastVoicedAt);
  }

  private readonly tick = (): void => {
    if (this.stopped) return;
    const now = performance.now();
    // Every frame due by now goes out: a late timer catches up, as Twilio's jitter would.
    const due = Math.floor((now - this.t0) / this.frameWallMs) + 1;
    while (this.sentFrames.length < due && !this.stopped) this.sendOne(now);
    this.onTick(now);
    if (this.stopped) return;
    const nextAt = this.t0 + this.sentFrames.length * this.frameWallMs;
    this.timer = setTimeout(this.tick, Math.max(0, nextAt - performance.now()));
  };

  private sendOne(now: number): void {
    const p = this.playing;
    let frame: Buffer;
    if (p) {
      frame = p.clip.frames[p.next]!;
      if (p.next === p.clip.lastVoicedFrame) p.lastVoicedAt = now;
      p.next += 1;
      if (p.next >= p.clip.frames.length) {
        this.playing = undefined;
        p.done(p.lastVoicedAt);
      }
    } else {
      frame = this.noise.frame();
    }
    this.send(frame, this.sentFrames.length);
    this.sentFrames.push(frame);
  }
}

// ---- the agent's side: Twilio's playback buffer, marks and clear ------------------------

/** One stretch of agent audio: from media after quiet to quiet (or a clear). */
interface Segment {
  startedAt: number;
  lastMediaAt: number;
  chunks: Buffer[];
  receivedBytes: number;
  playedBytes: number;
  cleared: boolean;
  endedAt?: number;
  ended: Promise<void>;
  end: () => void;
}

interface SegmentWaiter {
  since: number;
  resolve: (segment: Segment | undefined) => void;
  timer: NodeJS.Timeout;
}

class AgentSide {
  readonly segments: Segment[] = [];
  readonly marks: MarkEcho[] = [];
  readonly recording = new GrowingPcm();
  clears: number[] = [];
  mediaReceived = 0;
  private active: Segment | undefined;
  /** Wall time at which everything queued will have played. */
  private playEnd = 0;
  private writePos = 0;
  private pending: { echo: MarkEcho; due: number }[] = [];
  private markTimer: NodeJS.Timeout | undefined;
  private waiters: SegmentWaiter[] = [];
  private closed = false;

  constructor(
    private readonly t0: number,
    private readonly pace: number,
    private readonly quietMs: number,
    private readonly echoMark: (name: string) => void,
  ) {}

  onMedia(mulaw: Buffer, now: number): void {
    this.mediaReceived += 1;
    if (!this.active) this.startSegment(now);
    const seg = this.active!;
    seg.lastMediaAt = now;
    seg.chunks.push(mulaw);
    seg.receivedBytes += mulaw.length;
    // Position on the call's audio timeline: right after what is queued, or now when idle.
    if (this.playEnd <= now) {
      this.playEnd = now;
      this.writePos = Math.max(this.writePos, this.audioPos(now));
    }
    this.recording.write(this.writePos, mulawToPcm(mulaw));
    this.writePos += mulaw.length;
    this.playEnd += mulaw.length / (8 * this.pace);
  }

  onMark(name: string, now: number): void {
    const echo: MarkEcho = { name, receivedAtMs: now - this.t0, echoedAtMs: NaN, cleared: false };
    this.marks.push(echo);
    this.pending.push({ echo, due: Math.max(now, this.playEnd) });
    this.echoDue();
  }

  /** Twilio drops the unplayed audio and sends back every pending mark. */
  onClear(now: number): void {
    this.clears.push(now);
    const unplayed = Math.max(0, this.playEnd - now);
    if (this.active) {
      const seg = this.active;
      seg.playedBytes = Math.max(0, seg.receivedBytes - Math.round(unplayed * 8 * this.pace));
      seg.cleared = true;
      this.endSegment(now);
    }
    const nowPos = this.audioPos(now);
    if (this.writePos > nowPos) this.recording.erase(nowPos, this.writePos);
    this.writePos = Math.min(this.writePos, nowPos);
    this.playEnd = now;
    clearTimeout(this.markTimer);
    for (const { echo } of this.pending.splice(0)) {
      echo.cleared = true;
      this.send(echo, now);
    }
  }

  /** Called every frame tick: ends the active segment once it is quiet and played. */
  poll(now: number): void {
    const seg = this.active;
    if (seg && now - seg.lastMediaAt >= this.quietMs && now >= this.playEnd) {
      this.echoDue(); // its marks are due by now: echo them before anyone acts on the end
      this.endSegment(now);
    }
  }

  /** The first segment that started at or after `since`; undefined after timeoutMs or close. */
  segmentSince(since: number, timeoutMs: number): Promise<Segment | undefined> {
    const found = this.segments.find((s) => s.startedAt >= since);
    if (found || this.closed) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter: SegmentWaiter = {
        since,
        resolve,
        timer: setTimeout(() => this.settleWaiter(waiter, undefined), Math.max(0, timeoutMs)),
      };
      this.waiters.push(waiter);
    });
  }

  close(now: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.active) this.endSegment(now);
    clearTimeout(this.markTimer);
    for (const w of [...this.waiters]) this.settleWaiter(w, undefined);
  }

  /** Length of the agent channel so far, in samples. */
  get recordedSamples(): number {
    return this.recording.length;
  }

  private audioPos(now: number): number {
    return Math.max(0, Math.round((now - this.t0) * this.pace * 8));
  }

  private startSegment(now: number): void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const seg: Segment = {
      startedAt: now,
      lastMediaAt: now,
      chunks: [],
      receivedBytes: 0,
      playedBytes: 0,
      cleared: false,
      ended,
      end,
    };
    this.segments.push(seg);
    this.active = seg;
    for (const w of [...this.waiters]) if (now >= w.since) this.settleWaiter(w, seg);
  }

  private endSegment(now: number): void {
    const seg = this.active!;
    this.active = undefined;
    if (!seg.cleared) seg.playedBytes = seg.receivedBytes;
    seg.endedAt = now;
    seg.end();
  }

  private settleWaiter(w: SegmentWaiter, seg: Segment | undefined): void {
    clearTimeout(w.timer);
    this.waiters = this.waiters.filter((x) => x !== w);
    w.resolve(seg);
  }

  private echoDue(): void {
    clearTimeout(this.markTimer);
    if (this.closed) return;
    const now = performance.now();
    while (this.pending.length > 0 && this.pending[0]!.due <= now) {
      this.send(this.pending.shift()!.echo, now);
    }
    if (this.pending.length > 0) {
      this.markTimer = setTimeout(() => this.echoDue(), this.pending[0]!.due - now);
    }
  }

  private send(echo: MarkEcho, now: number): void {
    echo.echoedAtMs = now - this.t0;
    this.echoMark(echo.name);
  }
}

// ---- Twilio's HTTP side ---------------------------------------------------------------

interface StreamInstruction {
  url: string;
  parameters: Record<string, string>;
}

const unescapeXml = (s: string): string =>
  s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) =>
    e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : '&',
  );

/** The <Connect><Stream> of a TwiML answer, with its <Parameter>s. */
export function parseStreamTwiml(twiml: string): StreamInstruction {
  const stream = /<Connect>\s*<Stream\b([^>]*?)(?:\/>|>([\s\S]*?)<\/Stream>)/.exec(twiml);
  const url = stream && /\burl="([^"]*)"/.exec(stream[1]!)?.[1];
  if (!stream || !url) {
    throw new Error(`the edge did not answer with a <Connect><Stream>: ${twiml.slice(0, 300)}`);
  }
  const parameters: Record<string, string> = {};
  for (const p of (stream[2] ?? '').matchAll(/<Parameter\b([^>]*)\/?>/g)) {
    const name = /\bname="([^"]*)"/.exec(p[1]!)?.[1];
    const value = /\bvalue="([^"]*)"/.exec(p[1]!)?.[1];
    if (name !== undefined) parameters[unescapeXml(name)] = unescapeXml(value ?? '');
  }
  return { url: unescapeXml(url), parameters };
}

/**
 * Where to open the stream: the TwiML names the public wss:// URL (which is what gets
 * signed); the socket goes to the same path on the edge's own listen address.
 */
export function edgeStreamAddress(streamUrl: string, publicUrl: string, edgeUrl: string): string {
  const toWs = (http: string) => {
    const u = new URL(http);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString().replace(/\/+$/, '');
  };
  const publicBase = toWs(publicUrl);
  const rest = streamUrl.startsWith(`${publicBase}/`)
    ? streamUrl.slice(publicBase.length)
    : new URL(streamUrl).pathname + new URL(streamUrl).search;
  return toWs(edgeUrl) + rest;
}

function openStream(address: string, signature: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address, {
      headers: { 'x-twilio-signature': signature },
      perMessageDeflate: false,
    });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      reject(new Error(`the edge refused the media stream: HTTP ${res.statusCode}`));
    });
    ws.once('error', (err) => reject(new Error(`media stream to ${address}: ${err.message}`)));
  });
}

// ---- the call ---------------------------------------------------------------------------

interface TurnState {
  index: number;
  item?: CallerScriptItem;
  bargedIn: boolean;
  startedAt: number;
  callerAudioMs: number;
  lastVoicedAt?: number;
  /** What replyAfterMs is measured from. */
  refAt: number;
  reply: Promise<Segment | undefined>;
  segment?: Segment;
}

interface CallIds {
  callSid: string;
  accountSid: string;
  streamSid: string;
}

/** What a caller can be asked to say or key again. */
type RepeatableItem = Extract<CallerScriptItem, { kind: 'say' | 'audio' | 'dtmf' }>;

interface CallSettings {
  pace: number;
  quietMs: number;
  replyTimeoutMs: number;
  dtmfGapMs: number;
  thinkMs: number;
  print: (line: string) => void;
  askedAgain?: () => Promise<boolean>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Settles with `p`, or with undefined after `ms`; leaves no timer behind either way. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>(
    (r) => (timer = setTimeout(() => r(undefined), Math.max(0, ms))),
  );
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const round1 = (ms: number) => Math.round(ms * 10) / 10;

/** One media stream from `start` to the socket's close: Twilio's end of it. */
class StreamedCall {
  readonly t0 = performance.now();
  readonly cpu0 = process.cpuUsage();
  readonly turns: TurnState[] = [];
  readonly protocolErrors: string[] = [];
  readonly closed: Promise<void>;
  close: { code: number; reason: string } | undefined;
  closedByUs = false;
  private readonly agent: AgentSide;
  private readonly line: CallerLine;
  private seq = 0;
  private hungUp = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly ids: CallIds,
    private readonly s: CallSettings,
    noise: LineNoise,
  ) {
    const { streamSid } = ids;
    this.agent = new AgentSide(this.t0, s.pace, s.quietMs, (name) =>
      this.send({ event: 'mark', streamSid, mark: { name } }),
    );
    this.line = new CallerLine(
      FRAME_MS / s.pace,
      noise,
      (frame, index) =>
        this.send({
          event: 'media',
          streamSid,
          media: {
            track: 'inbound',
            chunk: String(index + 1),
            timestamp: String(index * FRAME_MS),
            payload: frame.toString('base64'),
          },
        }),
      (now) => this.agent.poll(now),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const now = performance.now();
      if (isBinary) return void this.protocolErrors.push('binary frame');
      const parsed = parseOutbound(rawToString(data));
      if (!parsed.ok) return void this.protocolErrors.push(parsed.reason);
      this.handle(parsed.msg, now);
    });
    ws.on('error', (err) => this.protocolErrors.push(`socket error: ${err.message}`));
    let onClosed!: () => void;
    this.closed = new Promise<void>((resolve) => (onClosed = resolve));
    ws.on('close', (code, reason) => {
      this.close = { code, reason: reason.toString() };
      this.line.stop();
      this.agent.close(performance.now());
      onClosed();
    });
  }

  get isOver(): boolean {
    return this.hungUp || this.close !== undefined;
  }

  /** `connected`, then `start` with the TwiML's parameters, then media at once, as Twilio does. */
  start(parameters: Record<string, string>): void {
    const { callSid, accountSid, streamSid } = this.ids;
    this.ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    this.send({
      event: 'start',
      streamSid,
      start: {
        streamSid,
        accountSid,
        callSid,
        tracks: ['inbound'],
        customParameters: parameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: MULAW_SAMPLE_RATE, channels: 1 },
      },
    });
    this.line.start(performance.now());
    const greeting: TurnState = {
      index: 0,
      bargedIn: false,
      startedAt: this.t0,
      callerAudioMs: 0,
      refAt: this.t0,
      reply: this.agent.segmentSince(this.t0, this.s.replyTimeoutMs),
    };
    this.turns.push(greeting);
    this.printReply(greeting);
  }

  /** Each step after listening to the previous reply; hangs up at the end of the script. */
  async run(script: CallerScriptItem[], clips: Map<CallerScriptItem, CallerClip>): Promise<void> {
    let said: RepeatableItem | undefined;
    for (const item of script) {
      if (this.isOver) return;
      const interruptAfterMs = item.kind === 'pause' ? undefined : item.interruptAfterMs;
      let bargedIn = await this.listen(interruptAfterMs);
      if (!bargedIn && (await this.sayAgainIfAsked(said, clips))) {
        bargedIn = await this.listen(interruptAfterMs);
      }
      if (this.isOver) return;
      if (item.kind === 'hangup') {
        this.s.print(
          `  caller: ${describeItem(item)}${bargedIn ? '   (while the agent speaks)' : ''}`,
        );
        return this.hangUp();
      }
      await this.perform(item, bargedIn, clips.get(item));
      said = item.kind === 'pause' ? undefined : item;
    }
    if (this.isOver) return;
    await this.listen(undefined);
    if (await this.sayAgainIfAsked(said, clips)) await this.listen(undefined);
    this.hangUp();
  }

  /** A patient caller says a line (or keys) once more when the agent asked for it again. */
  private async sayAgainIfAsked(
    said: RepeatableItem | undefined,
    clips: Map<CallerScriptItem, CallerClip>,
  ): Promise<boolean> {
    if (!said || this.isOver || !this.s.askedAgain || !(await this.s.askedAgain())) return false;
    if (this.isOver) return false;
    this.s.print('  caller: (asked again)');
    await this.perform(said, false, clips.get(said));
    return true;
  }

  hangUp(): void {
    if (this.isOver) return;
    this.hungUp = true;
    this.closedByUs = true;
    const { callSid, accountSid, streamSid } = this.ids;
    this.send({ event: 'stop', streamSid, stop: { accountSid, callSid } });
    this.line.stop();
    this.ws.close(1000, 'caller hung up');
  }

  /** Until the socket has closed: the edge answers our close frame; a dead peer gets 2 s. */
  async ended(): Promise<void> {
    await within(this.closed, 2_000);
    if (!this.close) {
      this.ws.terminate();
      await this.closed;
    }
  }

  async report(endedAt: number, cpu: NodeJS.CpuUsage): Promise<AudioCallReport> {
    for (const turn of this.turns) turn.segment = await turn.reply;
    const { turns, t0, agent, line } = this;
    const durationMs = endedAt - t0;
    return {
      callSid: this.ids.callSid,
      streamSid: this.ids.streamSid,
      workflowId: callWorkflowId(this.ids.callSid),
      pace: this.s.pace,
      turns: turns.map((t, i) => {
        const seg = t.segment;
        // A clear belongs to the step during which it came (the one that barged in).
        const until = turns[i + 1]?.startedAt ?? endedAt;
        const clearAt = t.item
          ? agent.clears.find((c) => c >= t.startedAt && c < until)
          : undefined;
        return {
          index: t.index,
          ...(t.item && { item: t.item, caller: describeItem(t.item) }),
          bargedIn: t.bargedIn,
          callerAudioMs: t.callerAudioMs,
          agentAudioMs: seg ? seg.playedBytes / 8 : 0,
          agentReceivedMs: seg ? seg.receivedBytes / 8 : 0,
          ...(seg &&
            t.lastVoicedAt !== undefined && {
              voiceToVoiceMs: round1(seg.startedAt - t.lastVoicedAt),
            }),
          ...(seg && { replyAfterMs: round1(seg.startedAt - t.refAt) }),
          replyCleared: seg?.cleared ?? false,
          ...(clearAt !== undefined && { clearAfterMs: round1(clearAt - t.startedAt) }),
          noReply: !seg && t.item?.kind !== 'pause',
          startedAtMs: round1(t.startedAt - t0),
          ...(t.lastVoicedAt !== undefined && { lastVoicedAtMs: round1(t.lastVoicedAt - t0) }),
          ...(seg && { replyStartedAtMs: round1(seg.startedAt - t0) }),
        };
      }),
      endedBy: this.closedByUs ? 'caller' : 'edge',
      close: this.close ?? { code: 1006, reason: 'terminated' },
      recording: recordingOf(line, agent),
      marks: agent.marks,
      clears: agent.clears.length,
      framesSent: line.sentFrames.length,
      mediaReceived: agent.mediaReceived,
      protocolErrors: this.protocolErrors,
      durationMs: round1(durationMs),
      audioMs: line.sentFrames.length * FRAME_MS,
      cpu: {
        userMs: round1(cpu.user / 1000),
        systemMs: round1(cpu.system / 1000),
        perCallSecondMs: round1((cpu.user + cpu.system) / 1000 / (durationMs / 1000)),
      },
    };
  }

  /** The segments each turn's reply is made of, for transcription. */
  replies(): (Segment | undefined)[] {
    return this.turns.map((t) => t.segment);
  }

  /**
   * Listens to the last turn's reply: to its end and a moment more, or, barging in, until
   * `interruptAfterMs` into it. True when the next step then starts over the agent.
   */
  private async listen(interruptAfterMs: number | undefined): Promise<boolean> {
    const { pace, thinkMs } = this.s;
    const seg = await this.untilOver(this.turns.at(-1)!.reply);
    if (!seg) return false;
    if (interruptAfterMs !== undefined) {
      const at = seg.startedAt + interruptAfterMs / pace;
      await this.untilOver(within(seg.ended, at - performance.now()));
      return seg.endedAt === undefined;
    }
    await this.untilOver(seg.ended);
    await within(this.closed, thinkMs / pace); // a person does not answer in 0 ms
    return false;
  }

  private async perform(
    item: Exclude<CallerScriptItem, { kind: 'hangup' }>,
    bargedIn: boolean,
    clip: CallerClip | undefined,
  ): Promise<void> {
    const { pace, replyTimeoutMs, dtmfGapMs } = this.s;
    const startedAt = performance.now();
    const turn: TurnState = {
      index: this.turns.length,
      item,
      bargedIn,
      startedAt,
      callerAudioMs: 0,
      refAt: startedAt,
      reply: Promise.resolve(undefined),
    };
    this.turns.push(turn);
    this.s.print(`  caller: ${describeItem(item)}${bargedIn ? '   (barging in)' : ''}`);
    if (clip) {
      turn.callerAudioMs = clip.durationMs;
      turn.lastVoicedAt = await this.line.play(clip).catch(() => undefined);
      turn.refAt = turn.lastVoicedAt ?? performance.now();
    } else if (item.kind === 'dtmf') {
      for (const [i, digit] of [...item.digits].entries()) {
        if (i > 0) await sleep(dtmfGapMs / pace);
        if (this.isOver) break;
        this.send({
          event: 'dtmf',
          streamSid: this.ids.streamSid,
          dtmf: { track: 'inbound_track', digit },
        });
        turn.refAt = performance.now();
      }
    } else if (item.kind === 'pause') {
      await within(this.closed, item.ms / pace);
    }
    if (this.isOver) return;
    // A reply is agent audio that started after this step began (talking over it counts);
    // a pause takes what started during it and waits for nothing.
    turn.reply = this.agent.segmentSince(startedAt, item.kind === 'pause' ? 0 : replyTimeoutMs);
    this.printReply(turn);
  }

  private handle(msg: ParsedOutbound, now: number): void {
    if (msg.streamSid !== this.ids.streamSid) {
      this.protocolErrors.push(`${msg.event} for another streamSid`);
      return;
    }
    if (msg.event === 'media') this.agent.onMedia(msg.media.payload, now);
    else if (msg.event === 'mark') this.agent.onMark(msg.mark.name, now);
    else this.agent.onClear(now);
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.seq += 1;
    this.ws.send(JSON.stringify({ ...msg, sequenceNumber: String(this.seq) }));
  }

  private untilOver<T>(p: Promise<T>): Promise<T | undefined> {
    return Promise.race([p, this.closed.then(() => undefined)]);
  }

  private printReply(turn: TurnState): void {
    const { print, replyTimeoutMs } = this.s;
    void turn.reply.then(async (seg) => {
      if (!seg) {
        if (!this.isOver && turn.item?.kind !== 'pause') {
          print(`  agent:  (no reply within ${replyTimeoutMs} ms)`);
        }
        return;
      }
      await seg.ended;
      const latency =
        turn.lastVoicedAt !== undefined
          ? `voice-to-voice ${Math.round(seg.startedAt - turn.lastVoicedAt)} ms`
          : `reply after ${Math.round(seg.startedAt - turn.refAt)} ms`;
      const heard = (seg.playedBytes / 8000).toFixed(1);
      print(`  agent:  [${heard} s of audio${seg.cleared ? ', cut by clear' : ''}]   (${latency})`);
    });
  }
}

export async function placeAudioCall(opts: AudioCallOptions): Promise<AudioCallReport> {
  const pace = opts.pace ?? 1;
  if (!(pace > 0 && pace <= 50)) throw new RangeError(`pace must be in (0, 50], got ${pace}`);
  const callSid = callSidFor(opts.callSid);
  const settings: CallSettings = {
    pace,
    quietMs: opts.agentQuietMs ?? 400,
    replyTimeoutMs: opts.replyTimeoutMs ?? 15_000,
    dtmfGapMs: opts.dtmfGapMs ?? 250,
    thinkMs: opts.thinkMs ?? 200,
    print: opts.print ?? console.log,
    ...(opts.askedAgain && { askedAgain: opts.askedAgain }),
  };
  const maxCallMs = opts.maxCallMs ?? 300_000;
  const noise = new LineNoise(opts.lineNoise ?? 32);
  const tts = opts.callerTts ?? new LocalTts(DEFAULT_CALLER_VOICE);
  const clips = await prepareClips(opts.script, tts, noise);

  const ids: CallIds = {
    callSid,
    accountSid: opts.accountSid ?? `AC${'0'.repeat(32)}`,
    streamSid: `MZ${hex(16)}`,
  };
  const form = { CallSid: ids.callSid, AccountSid: ids.accountSid, From: opts.from, To: opts.to };
  const twiml = await postSignedWebhook(opts, '/v1/calls/incoming', {
    ...form,
    CallStatus: 'ringing',
    Direction: 'inbound',
  });
  const postStatus = async (durationMs: number) => {
    if (opts.statusCallback === false) return;
    await postSignedWebhook(opts, '/v1/calls/status', {
      ...form,
      CallStatus: 'completed',
      CallDuration: String(Math.round(durationMs / 1000)),
      Direction: 'inbound',
    });
  };

  let ws: WebSocket;
  let parameters: Record<string, string>;
  try {
    const stream = parseStreamTwiml(twiml);
    parameters = stream.parameters;
    // Twilio signs the URL it connects to, with no parameters (it is a GET).
    const signature = twilio.getExpectedTwilioSignature(opts.authToken, stream.url, {});
    ws = await openStream(edgeStreamAddress(stream.url, opts.publicUrl, opts.edgeUrl), signature);
  } catch (err) {
    await postStatus(0).catch(() => undefined); // the call ends either way
    throw err;
  }

  const call = new StreamedCall(ws, ids, settings, noise);
  const watchdog = setTimeout(() => {
    settings.print(`  [caller hangs up: the call reached ${maxCallMs} ms]`);
    call.hangUp();
  }, maxCallMs);
  let failed = false;
  let failure: unknown;
  try {
    call.start(parameters);
    await call.run(opts.script, clips);
  } catch (err) {
    failed = true;
    failure = err;
  }
  // Whatever went wrong on our side, the call ends like a hang-up.
  call.hangUp();
  await call.ended();
  clearTimeout(watchdog);
  const endedAt = performance.now();
  const cpu = process.cpuUsage(call.cpu0);
  await postStatus(endedAt - call.t0);
  if (failed) throw failure;

  const report = await call.report(endedAt, cpu);
  if (report.endedBy === 'edge') {
    settings.print(`  [the edge ended the call: ${report.close.code} ${report.close.reason}]`);
  }
  if (opts.transcriber) {
    await transcribeReplies(report, call.replies(), opts.transcriber, settings.print);
  }
  return report;
}

function recordingOf(line: CallerLine, agent: AgentSide): CallRecording {
  const caller = mulawToPcm(Buffer.concat(line.sentFrames));
  const length = Math.max(caller.length, agent.recordedSamples);
  const padded = new Int16Array(length);
  padded.set(caller);
  return { sampleRate: MULAW_SAMPLE_RATE, caller: padded, agent: agent.recording.take(length) };
}

async function transcribeReplies(
  report: AudioCallReport,
  replies: (Segment | undefined)[],
  transcriber: AgentTranscriber,
  print: (line: string) => void,
): Promise<void> {
  print('  what the agent said (transcribed):');
  for (const [i, seg] of replies.entries()) {
    if (!seg || seg.playedBytes < FRAME_BYTES) continue;
    const played = Buffer.concat(seg.chunks).subarray(0, seg.playedBytes);
    const caller = report.turns[i]!.caller;
    const label = caller ? `after "${caller}"` : 'greeting';
    try {
      const transcript = await transcriber.stt.transcribe(
        { samples: mulawToPcm(played), sampleRate: MULAW_SAMPLE_RATE },
        { hints: transcriber.hints },
      );
      report.turns[i]!.agentTranscript = transcript.text;
      print(`    ${label}: "${transcript.text}"`);
    } catch (err) {
      // The call already happened; a transcription failure only leaves this turn without text.
      print(`    ${label}: (not transcribed: ${err instanceof Error ? err.message : String(err)})`);
    }
  }
}

/** Both sides as a two-channel WAV (caller left, agent right). */
export function recordingWav(recording: CallRecording): Buffer {
  return encodeWav({
    channels: [recording.caller, recording.agent],
    sampleRate: recording.sampleRate,
  });
}

/**
 * A pocketsphinx transcriber for the agent's replies, warmed up: a fresh decoder mishears its
 * first utterance (its cepstral mean starts cold), so it hears one agent-voiced prompt first.
 */
export async function createAgentTranscriber(
  hints?: string[],
): Promise<AgentTranscriber & { dispose(): void }> {
  const stt = new PocketsphinxSpeechToText({ poolSize: 1 });
  const warm = await new LocalTts().synthesize('Thank you for calling. How can I help you today?');
  await stt.transcribe({ samples: mulawToPcm(warm.mulaw), sampleRate: MULAW_SAMPLE_RATE });
  return { stt, ...(hints && { hints }), dispose: () => stt.dispose() };
}
