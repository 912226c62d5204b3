// Twilio bidirectional Media Streams, as documented at
// https://www.twilio.com/docs/voice/media-streams/websocket-messages
//   inbound (Twilio → edge): connected, start, media, dtmf, mark, stop
//   outbound (edge → Twilio): media, mark, clear
// Twilio sends sequenceNumber, chunk and timestamp as decimal strings; they are accepted as
// strings or numbers and parsed to numbers. Unknown extra fields are ignored (the protocol may
// grow); missing or mistyped documented fields are errors. Error reasons name the field and
// the rule, never echo the value, so they are safe to log.
import type { RawData } from 'ws';
import { z } from 'zod';

export const MULAW_SAMPLE_RATE = 8000;
/** One media frame: 20 ms of 8 kHz μ-law, one byte per sample. */
export const FRAME_MS = 20;
export const FRAME_BYTES = (MULAW_SAMPLE_RATE * FRAME_MS) / 1000;
/** Largest audio payload accepted in one media message: 1 s (Twilio sends 20 ms). */
export const MAX_MEDIA_PAYLOAD_BYTES = MULAW_SAMPLE_RATE;
/** Largest text message accepted: a 1 s payload in base64 plus a generous envelope. */
export const MAX_MESSAGE_CHARS = 64 * 1024;

const MAX_PAYLOAD_BASE64 = Math.ceil(MAX_MEDIA_PAYLOAD_BYTES / 3) * 4;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const text = (max: number) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(max, `is longer than ${max} characters`);

/** A nested object of the message; named errors instead of zod's generic ones. */
const part = <T extends z.ZodRawShape>(shape: T) =>
  z.object(shape, {
    error: (iss) => (iss.input === undefined ? 'is required' : 'must be an object'),
  });

const counter = z
  .union(
    [z.string().regex(/^\d{1,15}$/), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)],
    {
      error: (iss) =>
        iss.input === undefined ? 'is required' : 'must be a non-negative integer (or its digits)',
    },
  )
  .transform(Number);

/** Twilio Stream SIDs are "MZ" + 32 hex digits. */
export const STREAM_SID = /^MZ[0-9a-fA-F]{32}$/;
/** Twilio Call SIDs are "CA" + 32 hex digits (the call workflow id is derived from it). */
export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;

const streamSid = text(34).regex(STREAM_SID, 'must be "MZ" followed by 32 hex digits');
const callSid = text(34).regex(CALL_SID, 'must be "CA" followed by 32 hex digits');
const accountSid = text(64);

const payload = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .min(1, 'must not be empty')
  .max(MAX_PAYLOAD_BASE64, `is larger than ${MAX_MEDIA_PAYLOAD_BYTES} bytes of audio`)
  .regex(BASE64, 'must be base64')
  .transform((value) => Buffer.from(value, 'base64'));

const connectedSchema = z.object({
  event: z.literal('connected'),
  protocol: text(64),
  version: text(32),
});

const customParameters = z
  .record(z.string().max(64, 'parameter name too long'), z.string().max(2048, 'value too long'))
  .refine((params) => Object.keys(params).length <= 32, 'has more than 32 parameters');

const startSchema = z
  .object({
    event: z.literal('start'),
    sequenceNumber: counter,
    // Documented at the top level as well as inside `start`; when both are present they agree.
    streamSid: streamSid.optional(),
    start: part({
      streamSid,
      accountSid,
      callSid,
      tracks: z
        .array(z.enum(['inbound', 'outbound']))
        .min(1, 'must name a track')
        .max(2),
      customParameters: customParameters.default({}),
      mediaFormat: part({
        encoding: z.literal('audio/x-mulaw', { error: 'must be audio/x-mulaw' }),
        sampleRate: z.literal(MULAW_SAMPLE_RATE, { error: `must be ${MULAW_SAMPLE_RATE}` }),
        channels: z.literal(1, { error: 'must be 1' }),
      }),
    }),
  })
  .refine((m) => m.streamSid === undefined || m.streamSid === m.start.streamSid, {
    message: 'differs from start.streamSid',
    path: ['streamSid'],
  })
  .transform((m) => ({ ...m, streamSid: m.start.streamSid }));

const mediaSchema = z.object({
  event: z.literal('media'),
  sequenceNumber: counter,
  streamSid,
  media: part({
    track: z.enum(['inbound', 'outbound'], { error: 'must be inbound or outbound' }),
    chunk: counter,
    timestamp: counter,
    payload,
  }),
});

const dtmfSchema = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: counter,
  streamSid,
  dtmf: part({
    track: text(32),
    digit: z.string().regex(/^[0-9*#A-Da-d]$/, 'must be one keypad digit (0-9, *, #, A-D)'),
  }),
});

const markSchema = z.object({
  event: z.literal('mark'),
  sequenceNumber: counter,
  streamSid,
  mark: part({ name: text(256) }),
});

const stopSchema = z.object({
  event: z.literal('stop'),
  sequenceNumber: counter,
  streamSid,
  stop: part({ accountSid, callSid }),
});

const inboundSchemas = {
  connected: connectedSchema,
  start: startSchema,
  media: mediaSchema,
  dtmf: dtmfSchema,
  mark: markSchema,
  stop: stopSchema,
} as const;

export type InboundEventName = keyof typeof inboundSchemas;
export type ConnectedMessage = z.output<typeof connectedSchema>;
export type StartMessage = z.output<typeof startSchema>;
/** `media.payload` is the decoded μ-law audio. */
export type MediaMessage = z.output<typeof mediaSchema>;
export type DtmfMessage = z.output<typeof dtmfSchema>;
export type MarkMessage = z.output<typeof markSchema>;
export type StopMessage = z.output<typeof stopSchema>;
export type InboundMessage =
  ConnectedMessage | StartMessage | MediaMessage | DtmfMessage | MarkMessage | StopMessage;

/** malformed: not a JSON object with an `event`; unknown_event: an event Twilio does not send. */
export type ParseFailureKind = 'too_large' | 'malformed' | 'unknown_event' | 'invalid';
export type ParseResult<T> =
  { ok: true; msg: T } | { ok: false; kind: ParseFailureKind; reason: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An event name fit for a log line: short identifiers only, anything else is withheld. */
const loggableEvent = (event: string): string =>
  /^[A-Za-z_]{1,32}$/.test(event) ? `"${event}"` : '(unprintable)';

function describeIssues(event: string, error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join('.') || '(message)';
    return `${path} ${issue.message}`;
  });
  const more = error.issues.length > 3 ? `; and ${error.issues.length - 3} more` : '';
  return `invalid ${event}: ${parts.join('; ')}${more}`;
}

function parseEnvelope(
  textMsg: string,
  known: Record<string, z.ZodType>,
): ParseResult<{ event: string; schema: z.ZodType; value: Record<string, unknown> }> {
  if (textMsg.length > MAX_MESSAGE_CHARS) {
    return {
      ok: false,
      kind: 'too_large',
      reason: `message larger than ${MAX_MESSAGE_CHARS} characters`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(textMsg);
  } catch {
    return { ok: false, kind: 'malformed', reason: 'malformed JSON' };
  }
  if (!isRecord(value)) return { ok: false, kind: 'malformed', reason: 'not a JSON object' };
  const event = value.event;
  if (typeof event !== 'string') {
    return { ok: false, kind: 'malformed', reason: 'event is missing or not a string' };
  }
  const schema = Object.hasOwn(known, event) ? known[event] : undefined;
  if (!schema) {
    return { ok: false, kind: 'unknown_event', reason: `unknown event ${loggableEvent(event)}` };
  }
  return { ok: true, msg: { event, schema, value } };
}

function parseWith<T>(textMsg: string, known: Record<string, z.ZodType>): ParseResult<T> {
  const envelope = parseEnvelope(textMsg, known);
  if (!envelope.ok) return envelope;
  const { event, schema, value } = envelope.msg;
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    return { ok: false, kind: 'invalid', reason: describeIssues(event, parsed.error) };
  return { ok: true, msg: parsed.data as T };
}

/** Parses one text message from Twilio. Media payloads come back decoded. */
export function parseInbound(textMsg: string): ParseResult<InboundMessage> {
  return parseWith<InboundMessage>(textMsg, inboundSchemas);
}

// ---- outbound (edge → Twilio) ----

export interface OutboundMedia {
  event: 'media';
  streamSid: string;
  media: { payload: string };
}
export interface OutboundMark {
  event: 'mark';
  streamSid: string;
  mark: { name: string };
}
export interface OutboundClear {
  event: 'clear';
  streamSid: string;
}
export type OutboundMessage = OutboundMedia | OutboundMark | OutboundClear;

export const outboundMedia = (sid: string, mulaw: Buffer): OutboundMedia => ({
  event: 'media',
  streamSid: sid,
  media: { payload: mulaw.toString('base64') },
});

export const outboundMark = (sid: string, name: string): OutboundMark => ({
  event: 'mark',
  streamSid: sid,
  mark: { name },
});

export const outboundClear = (sid: string): OutboundClear => ({ event: 'clear', streamSid: sid });

export const encodeOutbound = (msg: OutboundMessage): string => JSON.stringify(msg);

// Twilio's side of the protocol (the caller simulator, tests) reads what the edge sends.
const outboundSchemas = {
  media: z.object({ event: z.literal('media'), streamSid, media: part({ payload }) }),
  mark: z.object({ event: z.literal('mark'), streamSid, mark: part({ name: text(256) }) }),
  clear: z.object({ event: z.literal('clear'), streamSid }),
} as const;

/** What a parsed outbound message looks like: media payloads decoded to μ-law bytes. */
export type ParsedOutbound =
  { event: 'media'; streamSid: string; media: { payload: Buffer } } | OutboundMark | OutboundClear;

/** Parses one message the edge sends (for Twilio's side: the simulator and tests). */
export function parseOutbound(textMsg: string): ParseResult<ParsedOutbound> {
  return parseWith<ParsedOutbound>(textMsg, outboundSchemas);
}

/** A WebSocket message's text, whichever of its three forms `ws` delivers. */
export const rawToString = (data: RawData): string =>
  Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Buffer.from(data).toString('utf8');
