// Local stand-ins for the cloud TTS vendors, which cannot be reached from here. Each
// replays its vendor's documented wire protocol and records every request it got:
// - Amazon Polly SynthesizeSpeech (REST-JSON, POST /v1/speech, SigV4). Served over
//   cleartext HTTP/2 because @aws-sdk/client-polly ≥ 3.7xx sends every Polly call through
//   its HTTP/2 handler.
// - Google Cloud Text-to-Speech v1 (POST /v1/text:synthesize, JSON, base64 WAV audioContent,
//   the Google API error body), over HTTP/1.1 like fetch uses.
// Both also list their voices (Polly DescribeVoices, Google voices.list: GET /v1/voices), the
// adapters' health check.
// The audio in the "recorded" responses is real speech: the shipped prompt for the text.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { PrerecordedTts } from '../../providers/tts/prerecorded';
import { mulawToPcm } from '../../audio/mulaw';
import { encodeWav } from '../../audio/wav';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** What the stand-in answers; `hang` holds the request open until the client gives up. */
export type VendorReply =
  | { kind: 'audio'; pcm: Int16Array }
  | { kind: 'error'; status: number; code: string; message: string }
  | { kind: 'hang' };

const prompts = new PrerecordedTts();

/** 8 kHz PCM of the shipped prompt for `text`: the body of a recorded exchange. */
export async function recordedPcm(text: string): Promise<Int16Array | undefined> {
  if (!prompts.has(text)) return undefined;
  return mulawToPcm((await prompts.synthesize(text)).mulaw);
}

type Rendered = { status: number; headers: Record<string, string>; body: Buffer };
type Answer = Exclude<VendorReply, { kind: 'hang' }>;

abstract class VendorServer {
  readonly requests: RecordedRequest[] = [];
  /** Decides each reply; tests replace it. The default serves the recorded audio. */
  reply: (req: RecordedRequest, text: string) => VendorReply | Promise<VendorReply> = async (
    _req,
    text,
  ) => {
    const pcm = await recordedPcm(text);
    return pcm
      ? { kind: 'audio', pcm }
      : { kind: 'error', status: 400, code: 'ReplayMiss', message: 'no recorded exchange' };
  };
  url = '';
  /** Set by tests: every request, the voice list included, fails (or hangs) this way. */
  outage?: () => Exclude<VendorReply, { kind: 'audio' }> | undefined;

  protected async handle(
    req: RecordedRequest,
    text: string,
    respond: (status: number, headers: Record<string, string>, body: Buffer) => void,
    onClientGone: (fn: () => void) => void,
  ): Promise<void> {
    this.requests.push(req);
    if (req.method === 'GET' && req.path.startsWith('/v1/voices')) {
      // The voice list (the health check's request) fails like every request while a test's
      // `reply` says so; otherwise it lists the voices.
      const outage = this.outage?.();
      if (outage?.kind === 'hang') return onClientGone(() => undefined);
      const { status, headers, body } = outage ? this.render(outage, '') : this.voices();
      return respond(status, headers, body);
    }
    const reply = await this.reply(req, text);
    if (reply.kind === 'hang') {
      await new Promise<void>((resolve) => onClientGone(resolve));
      return;
    }
    const { status, headers, body } = this.render(reply, text);
    respond(status, headers, body);
  }

  protected abstract render(reply: Answer, text: string): Rendered;
  /** The vendor's documented answer to its voice list. */
  protected abstract voices(): Rendered;

  abstract start(): Promise<string>;
  abstract close(): Promise<void>;
}

function readBody(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

/** Amazon Polly's SynthesizeSpeech, as its API reference documents it. */
export class PollyReplayServer extends VendorServer {
  private server?: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  async start(): Promise<string> {
    this.server = http2.createServer();
    this.server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    this.server.on('stream', (stream, headers) => {
      void readBody(stream).then((body) => {
        const req: RecordedRequest = {
          method: String(headers[':method']),
          path: String(headers[':path']),
          headers: { ...headers },
          body,
        };
        let text = '';
        try {
          text = (JSON.parse(body) as { Text?: string }).Text ?? '';
        } catch {
          /* answered below as a bad request */
        }
        return this.handle(
          req,
          text,
          (status, h, b) => {
            if (stream.destroyed) return;
            stream.respond({ ':status': status, ...h });
            stream.end(b);
          },
          (fn) => stream.on('close', fn),
        );
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  protected render(reply: Answer, text: string): Rendered {
    const requestId = `req-${this.requests.length}`;
    if (reply.kind === 'audio') {
      const body = Buffer.from(reply.pcm.buffer, reply.pcm.byteOffset, reply.pcm.byteLength);
      return {
        status: 200,
        headers: {
          'content-type': 'audio/pcm',
          'x-amzn-requestcharacters': String(text.length),
          'x-amzn-requestid': requestId,
        },
        body,
      };
    }
    return {
      status: reply.status,
      headers: {
        'content-type': 'application/json',
        // AWS REST-JSON: the error code, optionally followed by ':' and a namespace URI.
        'x-amzn-errortype': `${reply.code}:http://internal.amazon.com/coral/com.amazonaws.parrot.service/`,
        'x-amzn-requestid': requestId,
      },
      body: Buffer.from(JSON.stringify({ message: reply.message })),
    };
  }

  /** DescribeVoices (`GET /v1/voices`): the voices with their engines. */
  protected voices(): Rendered {
    const voice = {
      Gender: 'Female',
      Id: 'Joanna',
      LanguageCode: 'en-US',
      LanguageName: 'US English',
      Name: 'Joanna',
      SupportedEngines: ['generative', 'long-form', 'neural', 'standard'],
    };
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': 'req-voices' },
      body: Buffer.from(JSON.stringify({ Voices: [voice] })),
    };
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Google Cloud Text-to-Speech v1 text:synthesize with API-key auth. */
export class GoogleReplayServer extends VendorServer {
  private server?: http.Server;

  constructor(readonly apiKey: string) {
    super();
  }

  async start(): Promise<string> {
    this.server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
      void readBody(req).then((body) => {
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: { ...req.headers },
          body,
        };
        const send = (status: number, h: Record<string, string>, b: Buffer) => {
          if (!res.destroyed) res.writeHead(status, h).end(b);
        };
        if (req.headers['x-goog-api-key'] !== this.apiKey) {
          this.requests.push(recorded);
          const e = this.render({
            kind: 'error',
            status: 400,
            code: 'INVALID_ARGUMENT',
            message: 'API key not valid. Please pass a valid API key.',
          });
          return send(e.status, e.headers, e.body);
        }
        let text = '';
        try {
          text = (JSON.parse(body) as { input?: { text?: string } }).input?.text ?? '';
        } catch {
          /* answered as a replay miss */
        }
        return this.handle(recorded, text, send, (fn) => res.on('close', fn));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  protected render(reply: Answer): Rendered {
    const json = (status: number, value: unknown): Rendered => ({
      status,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: Buffer.from(JSON.stringify(value)),
    });
    if (reply.kind === 'audio') {
      // LINEAR16 audioContent is a whole WAV file, header included.
      const wav = encodeWav({ channels: [reply.pcm], sampleRate: 8000 });
      return json(200, { audioContent: wav.toString('base64') });
    }
    return json(reply.status, {
      error: { code: reply.status, message: reply.message, status: reply.code },
    });
  }

  /** voices.list (`GET /v1/voices?languageCode=…`). */
  protected voices(): Rendered {
    const voice = {
      languageCodes: ['en-US'],
      name: 'en-US-Neural2-F',
      ssmlGender: 'FEMALE',
      naturalSampleRateHertz: 24000,
    };
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: Buffer.from(JSON.stringify({ voices: [voice] })),
    };
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Dummy AWS credentials and region for the SDK's signer (never real keys). */
export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDSWITCHBOARDTEST',
  AWS_SECRET_ACCESS_KEY: 'switchboard-test-secret',
  AWS_REGION: 'us-east-1',
};

export const FAKE_GOOGLE_KEY = 'switchboard-test-api-key';
