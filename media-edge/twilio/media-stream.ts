// Twilio Media Streams WebSocket, version 1: GET /v1/calls/stream (registered under V1_PREFIX).
//
// Who may stream:
//   1. the upgrade request carries a valid X-Twilio-Signature over the public wss:// URL;
//      without one the upgrade is refused with HTTP 403 (no WebSocket is ever opened);
//   2. the `start` message carries the per-call token from the TwiML (customParameters.token),
//      signed for start.callSid and not expired; otherwise the socket is closed with 1008.
//      The signature alone is not enough: it covers only the URL, so it is the same for every
//      call and replayable. A call streams at most once per edge while its token is valid.
// Any protocol violation closes that one stream with a logged reason (never the payload or the
// token) and a WebSocket close code: 1003 binary frame, 1007 malformed or invalid message,
// 1008 unknown event / wrong order / wrong streamSid / bad token, 1009 message too large
// (ws maxPayload), 1011 a handler of ours failed. Other calls are not touched.
//
// Each started stream becomes a MediaStreamSession handed to `onStream`: 20 ms audio frames,
// DTMF, echoed marks and stop arrive as events, in order, through a bounded queue (a slow
// asynchronous consumer loses the oldest audio, counted, never memory); audio, marks and
// clear go back to Twilio, with the socket's send buffer capped for audio.
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import websocket from '@fastify/websocket';
import type { RawData, WebSocket } from 'ws';
import type { EdgeConfig } from '../config';
import type { PlayoutTransport } from '../call/playout';
import { verifyStreamToken, type StreamTokenFailure } from './stream-token';
import { isValidTwilioSignature } from './signature';
import {
  FRAME_BYTES,
  FRAME_MS,
  MAX_MEDIA_PAYLOAD_BYTES,
  MAX_MESSAGE_CHARS,
  encodeOutbound,
  outboundClear,
  outboundMark,
  outboundMedia,
  parseInbound,
  type InboundMessage,
  type ParseFailureKind,
  type StartMessage,
  rawToString,
} from './media-stream-protocol';

export const STREAM_ROUTE = '/stream';

export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
} as const;

export interface MediaStreamLimits {
  /** Largest inbound WebSocket message (ws maxPayload). */
  maxMessageBytes: number;
  /** Inbound events waiting for a busy consumer; beyond it the oldest audio frame is dropped. */
  inboundQueueFrames: number;
  /** Socket send buffer above which sendAudio drops (and counts) instead of queueing more. */
  outboundBufferBytes: number;
  /** A connection that has not sent a valid `start` by then is closed. */
  startTimeoutMs: number;
  /** After our close frame, how long the peer gets to answer before the socket is destroyed. */
  closeGraceMs: number;
}

export const DEFAULT_MEDIA_STREAM_LIMITS: MediaStreamLimits = {
  maxMessageBytes: MAX_MESSAGE_CHARS,
  inboundQueueFrames: 100, // 2 s of audio
  outboundBufferBytes: 64 * 1024, // ≈ 4.8 s of audio as base64 media messages
  startTimeoutMs: 10_000,
  closeGraceMs: 2_000,
};

export interface MediaStreamV1Options {
  config: Pick<EdgeConfig, 'twilioAuthToken' | 'publicUrl' | 'streamTokenSecret'>;
  /** Called once per stream that passed both checks. Events are held until it returns/settles. */
  onStream: (session: MediaStreamSession) => void | Promise<void>;
  limits?: Partial<MediaStreamLimits>;
  /** Clock for token expiry (ms since the epoch). */
  now?: () => number;
}

export interface StreamCloseInfo {
  code: number;
  reason: string;
  /** edge: we closed it (a violation, close(), shutdown); peer: Twilio stopped or hung up. */
  by: 'edge' | 'peer';
}

/** Listeners may return a promise: the next event waits for it (that is the backpressure). */
export interface MediaStreamEvents {
  /** One 20 ms frame (160 bytes μ-law) of the caller; timestampMs from the stream start. */
  audio: (mulaw: Buffer, timestampMs: number) => void | Promise<void>;
  dtmf: (digit: string) => void | Promise<void>;
  /** Twilio played the audio sent before the mark of this name (or cleared it). */
  mark: (name: string) => void | Promise<void>;
  /** Twilio ended the stream; `close` follows. */
  stop: () => void | Promise<void>;
  /** Always the last event. */
  close: (info: StreamCloseInfo) => void;
}
type EventName = keyof MediaStreamEvents;
type AnyListener = (...args: never[]) => unknown;

export interface MediaStreamStats {
  messagesIn: number;
  /** 160-byte frames received (inbound track). */
  framesIn: number;
  /** Frames dropped because the consumer fell behind by more than the inbound queue. */
  framesDropped: number;
  audioBytesIn: number;
  dtmfIn: number;
  marksIn: number;
  messagesOut: number;
  audioBytesOut: number;
  /** sendAudio calls refused because the socket's send buffer was over its cap. */
  audioOutDropped: number;
  marksOut: number;
  clearsOut: number;
}

type QueuedEvent =
  | { kind: 'audio'; frame: Buffer; timestampMs: number }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'mark'; name: string }
  | { kind: 'stop' };

/** What a session needs from its connection. */
interface SessionLink {
  isOpen(): boolean;
  bufferedAmount(): number;
  send(text: string): void;
  close(code: number, reason: string): void;
}

const PARAMETER_HIDDEN_FROM_SESSION = 'token';

/** The call's side of one stream; the agent's audio is played out on it directly. */
export class MediaStreamSession implements PlayoutTransport {
  readonly callSid: string;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly tracks: readonly ('inbound' | 'outbound')[];
  /** The <Stream> <Parameter>s, except the token (a credential, kept away from the pipeline). */
  readonly customParameters: Readonly<Record<string, string>>;

  private readonly counters: MediaStreamStats = {
    messagesIn: 0,
    framesIn: 0,
    framesDropped: 0,
    audioBytesIn: 0,
    dtmfIn: 0,
    marksIn: 0,
    messagesOut: 0,
    audioBytesOut: 0,
    audioOutDropped: 0,
    marksOut: 0,
    clearsOut: 0,
  };
  private readonly listeners = new Map<EventName, Set<AnyListener>>();
  private readonly queue: QueuedEvent[] = [];
  private held = true;
  private busy = false;
  private endInfo: StreamCloseInfo | undefined;
  private closeEmitted = false;
  private carry: Buffer = Buffer.alloc(0);
  private carryTimestampMs = 0;
  private outboundFull = false;

  constructor(
    start: StartMessage['start'],
    private readonly link: SessionLink,
    private readonly log: FastifyBaseLogger,
    private readonly queueCap: number,
    private readonly outboundCap: number,
    private readonly fail: (code: number, reason: string) => void,
  ) {
    this.callSid = start.callSid;
    this.streamSid = start.streamSid;
    this.accountSid = start.accountSid;
    this.tracks = Object.freeze([...start.tracks]);
    const params = { ...start.customParameters };
    delete params[PARAMETER_HIDDEN_FROM_SESSION];
    this.customParameters = Object.freeze(params);
  }

  on<E extends EventName>(event: E, listener: MediaStreamEvents[E]): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off<E extends EventName>(event: E, listener: MediaStreamEvents[E]): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  /** True until the stream is stopped or closed; sends are refused (false) afterwards. */
  get isOpen(): boolean {
    return this.endInfo === undefined && this.link.isOpen();
  }

  get stats(): Readonly<MediaStreamStats> {
    return { ...this.counters };
  }

  /**
   * Sends μ-law audio (one media message, at most 1 s) to the caller. Returns false, without
   * sending, when the stream is closed or the socket's send buffer is over its cap.
   */
  sendAudio(mulaw: Buffer): boolean {
    if (mulaw.length > MAX_MEDIA_PAYLOAD_BYTES) {
      throw new RangeError(`sendAudio takes at most ${MAX_MEDIA_PAYLOAD_BYTES} bytes at once`);
    }
    if (!this.isOpen) return false;
    if (mulaw.length === 0) return true;
    const text = encodeOutbound(outboundMedia(this.streamSid, mulaw));
    if (this.link.bufferedAmount() + text.length > this.outboundCap) {
      this.counters.audioOutDropped += 1;
      if (!this.outboundFull) {
        this.outboundFull = true;
        this.log.warn(
          { bufferedBytes: this.link.bufferedAmount() },
          'outbound buffer full; dropping audio',
        );
      }
      return false;
    }
    this.outboundFull = false;
    this.link.send(text);
    this.counters.messagesOut += 1;
    this.counters.audioBytesOut += mulaw.length;
    return true;
  }

  /** Asks Twilio to echo `name` once the audio sent before it has played. */
  sendMark(name: string): boolean {
    if (name.length === 0 || name.length > 256) {
      throw new RangeError('mark name must be 1 to 256 characters');
    }
    if (!this.isOpen) return false;
    this.link.send(encodeOutbound(outboundMark(this.streamSid, name)));
    this.counters.messagesOut += 1;
    this.counters.marksOut += 1;
    return true;
  }

  /** Discards the audio Twilio has buffered (barge-in). Twilio then echoes pending marks. */
  clear(): boolean {
    if (!this.isOpen) return false;
    this.link.send(encodeOutbound(outboundClear(this.streamSid)));
    this.counters.messagesOut += 1;
    this.counters.clearsOut += 1;
    return true;
  }

  /** Ends the stream from our side (normal closure; Twilio then ends the <Connect>). */
  close(reason = 'closed by edge'): void {
    this.link.close(CloseCode.normal, reason);
  }

  // ---- fed by the connection ----

  /** @internal Audio of one media message: split into 160-byte frames, remainder carried. */
  pushAudio(payload: Buffer, timestampMs: number): void {
    this.counters.audioBytesIn += payload.length;
    let buf = payload;
    let startMs = timestampMs;
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, payload]);
      startMs = this.carryTimestampMs;
    }
    let offset = 0;
    for (; offset + FRAME_BYTES <= buf.length; offset += FRAME_BYTES) {
      this.counters.framesIn += 1;
      this.push({
        kind: 'audio',
        frame: buf.subarray(offset, offset + FRAME_BYTES),
        timestampMs: startMs + (offset / FRAME_BYTES) * FRAME_MS,
      });
    }
    this.carry = Buffer.from(buf.subarray(offset));
    this.carryTimestampMs = startMs + (offset / FRAME_BYTES) * FRAME_MS;
  }

  /** @internal */
  pushControl(event: Exclude<QueuedEvent, { kind: 'audio' }>): void {
    if (event.kind === 'dtmf') this.counters.dtmfIn += 1;
    if (event.kind === 'mark') this.counters.marksIn += 1;
    this.push(event);
  }

  /** @internal */
  countMessage(): void {
    this.counters.messagesIn += 1;
  }

  /** @internal onStream has returned: start delivering. */
  release(): void {
    this.held = false;
    this.pump();
  }

  /** @internal The socket closed: deliver what is queued, then `close`. */
  ended(info: StreamCloseInfo): void {
    this.endInfo ??= info;
    this.pump();
  }

  /** @internal A violation closed the stream: queued events are no longer worth delivering. */
  discardQueue(): void {
    this.queue.length = 0;
  }

  private push(event: QueuedEvent): void {
    if (this.queue.length >= this.queueCap) {
      const oldestAudio = this.queue.findIndex((e) => e.kind === 'audio');
      if (oldestAudio === -1) {
        this.fail(CloseCode.policyViolation, 'inbound event queue overflow');
        return;
      }
      this.queue.splice(oldestAudio, 1);
      this.counters.framesDropped += 1;
    }
    this.queue.push(event);
    this.pump();
  }

  private pump(): void {
    if (this.held || this.busy) return;
    this.busy = true;
    while (this.queue.length > 0) {
      const pending = this.deliver(this.queue.shift()!);
      if (pending) {
        pending.then(
          () => {
            this.busy = false;
            this.pump();
          },
          (err: unknown) => {
            this.busy = false;
            this.listenerFailed(err);
          },
        );
        return;
      }
    }
    this.busy = false;
    if (this.endInfo && !this.closeEmitted) {
      this.closeEmitted = true;
      const info = this.endInfo;
      for (const listener of [...(this.listeners.get('close') ?? [])]) {
        try {
          (listener as MediaStreamEvents['close'])(info);
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'media stream close listener failed');
        }
      }
    }
  }

  /** Calls the listeners of one event; a promise when any of them is asynchronous. */
  private deliver(event: QueuedEvent): Promise<unknown> | undefined {
    const set = this.listeners.get(event.kind);
    if (!set || set.size === 0) return undefined;
    const pending: PromiseLike<unknown>[] = [];
    try {
      for (const listener of [...set]) {
        const result =
          event.kind === 'audio'
            ? (listener as MediaStreamEvents['audio'])(event.frame, event.timestampMs)
            : event.kind === 'dtmf'
              ? (listener as MediaStreamEvents['dtmf'])(event.digit)
              : event.kind === 'mark'
                ? (listener as MediaStreamEvents['mark'])(event.name)
                : (listener as MediaStreamEvents['stop'])();
        if (result && typeof (result as PromiseLike<unknown>).then === 'function')
          pending.push(result);
      }
    } catch (err) {
      this.listenerFailed(err);
      return undefined;
    }
    return pending.length > 0 ? Promise.all(pending) : undefined;
  }

  private listenerFailed(err: unknown): void {
    this.log.error({ err: errorMessage(err) }, 'media stream listener failed');
    this.queue.length = 0;
    this.fail(CloseCode.internalError, 'stream handler error');
    this.pump();
  }
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const TOKEN_FAILURES: Record<StreamTokenFailure, string> = {
  malformed: 'stream token malformed',
  bad_signature: 'stream token signature invalid',
  wrong_call: 'stream token issued for another call',
  expired: 'stream token expired',
};

const PARSE_FAILURE_CODES: Record<ParseFailureKind, number> = {
  too_large: CloseCode.tooBig,
  malformed: CloseCode.invalidPayload,
  invalid: CloseCode.invalidPayload,
  unknown_event: CloseCode.policyViolation,
};

// ws reports these on its socket and closes with the matching code itself.
const WS_ERRORS: Record<string, { code: number; reason: string }> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: { code: CloseCode.tooBig, reason: 'message too large' },
  WS_ERR_INVALID_UTF8: { code: CloseCode.invalidPayload, reason: 'text frame is not UTF-8' },
};

/** Calls whose token already opened a stream here, until that token expires. */
class StreamedCalls {
  private readonly until = new Map<string, number>();

  claim(callSid: string, tokenExpiresAtMs: number, now: number): boolean {
    for (const [sid, expires] of this.until) if (expires <= now) this.until.delete(sid);
    if (this.until.has(callSid)) return false;
    this.until.set(callSid, tokenExpiresAtMs);
    return true;
  }
}

const rawLength = (data: RawData): number =>
  Array.isArray(data)
    ? data.reduce((n, b) => n + b.length, 0)
    : data instanceof ArrayBuffer
      ? data.byteLength
      : data.length;

/** Printable ASCII only: safe in a log line and, at ≤ 123 characters, in a close frame. */
const printable = (text: string, max: number): string =>
  text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);

interface ConnectionDeps {
  options: MediaStreamV1Options;
  limits: MediaStreamLimits;
  streamed: StreamedCalls;
  now: () => number;
  onGone: (connection: StreamConnection) => void;
}

/** One WebSocket: the protocol state machine in front of a session. */
class StreamConnection {
  private session: MediaStreamSession | undefined;
  private sawConnected = false;
  private closing = false;
  private closeInfo: StreamCloseInfo | undefined;
  private readonly startTimer: NodeJS.Timeout;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private log: FastifyBaseLogger,
    private readonly deps: ConnectionDeps,
  ) {
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('error', (err) => this.onSocketError(err));
    socket.on('close', (code, reason) => this.onSocketClose(code, reason));
    this.startTimer = setTimeout(
      () => this.fail(CloseCode.policyViolation, 'no start message in time'),
      deps.limits.startTimeoutMs,
    );
    this.startTimer.unref();
  }

  /** Closes with a code and a logged reason; later messages are ignored. */
  fail(code: number, reason: string, by: 'edge' | 'peer' = 'edge'): void {
    if (this.closing) return;
    this.closing = true;
    this.closeInfo = { code, reason, by };
    clearTimeout(this.startTimer);
    if (code !== CloseCode.normal && code !== CloseCode.goingAway) {
      this.session?.discardQueue();
      this.log.warn({ closeCode: code, reason }, `media stream closed: ${reason}`);
    } else {
      this.log.info({ closeCode: code, reason }, `media stream closing: ${reason}`);
    }
    this.socket.close(code, printable(reason, 123));
    this.graceTimer = setTimeout(() => this.socket.terminate(), this.deps.limits.closeGraceMs);
    this.graceTimer.unref();
  }

  private createLink(): SessionLink {
    return {
      isOpen: () => !this.closing && this.socket.readyState === this.socket.OPEN,
      bufferedAmount: () => this.socket.bufferedAmount,
      send: (text) => this.socket.send(text),
      close: (code, reason) => this.fail(code, reason),
    };
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closing) return;
    if (isBinary) return this.fail(CloseCode.unsupportedData, 'binary frame');
    if (rawLength(data) > this.deps.limits.maxMessageBytes) {
      return this.fail(CloseCode.tooBig, 'message too large');
    }
    const parsed = parseInbound(rawToString(data));
    if (!parsed.ok) return this.fail(PARSE_FAILURE_CODES[parsed.kind], parsed.reason);
    this.session?.countMessage();
    this.handle(parsed.msg);
  }

  private handle(msg: InboundMessage): void {
    if (msg.event === 'connected') {
      if (this.sawConnected || this.session) {
        return this.fail(CloseCode.policyViolation, 'unexpected connected message');
      }
      this.sawConnected = true;
      this.log.debug({ protocol: msg.protocol, version: msg.version }, 'media stream connected');
      return;
    }
    if (msg.event === 'start') return this.onStart(msg);

    const session = this.session;
    if (!session) return this.fail(CloseCode.policyViolation, `${msg.event} before start`);
    if (msg.streamSid !== session.streamSid) {
      return this.fail(CloseCode.policyViolation, `${msg.event} for another streamSid`);
    }
    switch (msg.event) {
      case 'media':
        // A <Connect><Stream> carries only the caller's track; anything else is not ours to hear.
        if (msg.media.track === 'inbound') {
          session.pushAudio(msg.media.payload, msg.media.timestamp);
        }
        return;
      case 'dtmf':
        return session.pushControl({ kind: 'dtmf', digit: msg.dtmf.digit });
      case 'mark':
        return session.pushControl({ kind: 'mark', name: msg.mark.name });
      case 'stop':
        if (msg.stop.callSid !== session.callSid) {
          return this.fail(CloseCode.policyViolation, 'stop for another call');
        }
        session.pushControl({ kind: 'stop' });
        return this.fail(CloseCode.normal, 'stream stopped by Twilio', 'peer');
    }
  }

  private onStart(msg: StartMessage): void {
    if (this.session) return this.fail(CloseCode.policyViolation, 'duplicate start');
    const { callSid, streamSid, customParameters } = msg.start;
    this.log = this.log.child({ callSid, streamSid });

    const token = customParameters.token;
    if (!token) return this.fail(CloseCode.policyViolation, 'stream token missing');
    const now = this.deps.now();
    const verdict = verifyStreamToken(
      this.deps.options.config.streamTokenSecret,
      token,
      callSid,
      now,
    );
    if (!verdict.ok) return this.fail(CloseCode.policyViolation, TOKEN_FAILURES[verdict.reason]);
    if (customParameters.callSid !== undefined && customParameters.callSid !== callSid) {
      return this.fail(CloseCode.policyViolation, 'callSid parameter does not match the stream');
    }
    if (!this.deps.streamed.claim(callSid, verdict.expiresAtMs, now)) {
      return this.fail(CloseCode.policyViolation, 'call already has a media stream');
    }
    clearTimeout(this.startTimer);

    const { limits } = this.deps;
    const session = new MediaStreamSession(
      msg.start,
      this.createLink(),
      this.log,
      limits.inboundQueueFrames,
      limits.outboundBufferBytes,
      (code, reason) => this.fail(code, reason),
    );
    this.session = session;
    session.countMessage();
    this.log.info(
      { tracks: msg.start.tracks, parameters: Object.keys(session.customParameters) },
      'media stream started',
    );

    // Events wait in the session until the handler has attached its listeners.
    const handedOver = (failure?: { err: unknown }) => {
      if (failure) {
        this.log.error({ err: errorMessage(failure.err) }, 'media stream handler failed');
        this.fail(CloseCode.internalError, 'stream handler error');
      }
      session.release();
    };
    try {
      const result = this.deps.options.onStream(session);
      if (result && typeof result.then === 'function') {
        result.then(
          () => handedOver(),
          (err: unknown) => handedOver({ err }),
        );
      } else handedOver();
    } catch (err) {
      handedOver({ err });
    }
  }

  private onSocketError(err: Error & { code?: string }): void {
    const known = err.code ? WS_ERRORS[err.code] : undefined;
    if (known && !this.closing) {
      // ws has already sent its close frame; record why and log it like any violation.
      this.closing = true;
      this.closeInfo = { ...known, by: 'edge' };
      clearTimeout(this.startTimer);
      this.session?.discardQueue();
      this.log.warn(
        { closeCode: known.code, reason: known.reason },
        `media stream closed: ${known.reason}`,
      );
      return;
    }
    this.log.info({ err: err.message, code: err.code }, 'media stream socket error');
  }

  private onSocketClose(code: number, reason: Buffer): void {
    clearTimeout(this.startTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    const info = this.closeInfo ?? {
      code,
      reason: printable(reason.toString('utf8'), 80) || 'closed by peer',
      by: 'peer',
    };
    if (!this.closeInfo) {
      this.log.info({ closeCode: code, reason: info.reason }, 'media stream closed by peer');
    }
    this.closing = true;
    this.session?.ended(info);
    this.deps.onGone(this);
  }
}

/** The wss:// (ws:// for a plain-http dev URL) base Twilio signs for the stream upgrade. */
export function websocketBase(publicUrl: string): string {
  const url = new URL(publicUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString().replace(/\/+$/, '');
}

export const mediaStreamV1: FastifyPluginAsync<MediaStreamV1Options> = async (app, options) => {
  const limits = { ...DEFAULT_MEDIA_STREAM_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const signedBase = websocketBase(options.config.publicUrl);
  const connections = new Set<StreamConnection>();
  const streamed = new StreamedCalls();

  const shutdown = () => {
    for (const connection of connections) {
      connection.fail(CloseCode.goingAway, 'edge shutting down');
    }
  };

  // One @fastify/websocket per server: registered here unless the app already has it (then
  // its maxPayload applies, and the size check in onMessage still holds ours).
  if (!app.hasDecorator('websocketServer')) {
    await app.register(websocket, {
      options: { maxPayload: limits.maxMessageBytes },
      // Socket errors are handled per connection (StreamConnection.onSocketError).
      errorHandler: (error, _socket, request) =>
        request.log.debug({ err: error.message }, 'websocket error'),
      preClose(done) {
        shutdown();
        this.websocketServer.close();
        done();
      },
    });
  }
  app.addHook('preClose', (done) => {
    shutdown();
    done();
  });

  app.addHook('onRequest', async (request, reply) => {
    if (
      !isValidTwilioSignature(options.config.twilioAuthToken, signedBase, {
        url: request.url,
        headers: request.headers,
        body: undefined,
      })
    ) {
      const reason = request.headers['x-twilio-signature'] ? 'invalid' : 'missing';
      request.log.warn({ reason }, 'refused media stream upgrade: bad X-Twilio-Signature');
      return reply.code(403).send({ error: 'Forbidden', message: 'invalid Twilio signature' });
    }
  });

  app.get(STREAM_ROUTE, { websocket: true }, (socket, request) => {
    const connection = new StreamConnection(socket, request.log.child({ stream: 'media' }), {
      options,
      limits,
      streamed,
      now,
      onGone: (c) => connections.delete(c),
    });
    connections.add(connection);
  });
};
