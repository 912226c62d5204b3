// A local stand-in for Twilio's REST API (api.twilio.com/2010-04-01), which cannot be
// reached from here. It replays the documented exchanges the telephony adapter makes, with
// the real SDK on the other end:
//   POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json   Twiml=…       (redirect a live call)
//   POST /2010-04-01/Accounts/{AC}/Calls.json        To, From, Twiml|Url, StatusCallback
//   POST /2010-04-01/Accounts/{AC}/Messages.json     To, From, Body
// HTTP Basic auth (account SID : auth token), form-encoded bodies, JSON resources shaped
// like Twilio's (sid, account_sid, status, …) and Twilio's error body
// {code, message, more_info, status}. A request carrying an I-Twilio-Idempotency-Token it
// has seen gets the first answer again: the same token is one resource, never a second.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export const FAKE_TWILIO_ACCOUNT_SID = `AC${'0'.repeat(31)}1`;
export const FAKE_TWILIO_AUTH_TOKEN = 'stand-in-auth-token-0123456789ab';

export interface TwilioRestRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  idempotencyToken?: string;
  /** Answered from the idempotency record, not acted on. */
  replayed: boolean;
}

export interface TwilioCallResource {
  sid: string;
  to: string;
  from: string;
  status: string;
  /** The TwiML the call runs now (set by a redirect or at creation). */
  twiml?: string;
  url?: string;
  /** Where Twilio posts the created call's final status. */
  statusCallback?: string;
}

export interface TwilioMessageResource {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
}

/** A fault the next requests get instead of an answer. */
export interface TwilioFault {
  status: number;
  code: number;
  message: string;
  /** How many requests get it (default 1). */
  times?: number;
  /** Acted on first, then answered with the error: the answer lost on the way back. */
  afterActing?: boolean;
}

type Answer = { status: number; body: unknown };

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

export class TwilioRestReplayServer {
  readonly requests: TwilioRestRequest[] = [];
  readonly calls = new Map<string, TwilioCallResource>();
  readonly messages = new Map<string, TwilioMessageResource>();
  url = '';
  private server?: http.Server;
  private readonly byToken = new Map<string, Answer>();
  private faults: TwilioFault[] = [];

  constructor(
    readonly accountSid = FAKE_TWILIO_ACCOUNT_SID,
    readonly authToken = FAKE_TWILIO_AUTH_TOKEN,
  ) {}

  /** Env for the adapter: credentials and this server as the API base URL. */
  get env(): Record<string, string> {
    return {
      TWILIO_ACCOUNT_SID: this.accountSid,
      TWILIO_AUTH_TOKEN: this.authToken,
      TWILIO_API_BASE_URL: this.url,
    };
  }

  /** A call in progress, as Twilio holds it while the caller talks to the agent. */
  addLiveCall(callSid: string, from = '+15550100001', to = '+15550009999'): void {
    this.calls.set(callSid, { sid: callSid, from, to, status: 'in-progress' });
  }

  /** The next request(s) get this error (after auth; a token is not recorded for it). */
  fail(fault: TwilioFault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** The calls this server created (callbacks), not the live calls it was given. */
  get createdCalls(): TwilioCallResource[] {
    return [...this.calls.values()].filter((c) => c.status === 'queued');
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
    const form = Object.fromEntries(new URLSearchParams(raw));
    const token = req.headers['i-twilio-idempotency-token'];
    const record: TwilioRestRequest = {
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0]!,
      form,
      ...(typeof token === 'string' && { idempotencyToken: token }),
      replayed: false,
    };
    this.requests.push(record);
    const send = ({ status, body }: Answer): void =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

    if (!this.authorized(req.headers.authorization)) {
      return send(error(401, 20003, 'Authenticate'));
    }
    const fault = this.faults[0];
    if (fault) {
      if (--fault.times! <= 0) this.faults.shift();
      if (!fault.afterActing) return send(error(fault.status, fault.code, fault.message));
    }
    const key =
      record.idempotencyToken && `${record.method} ${record.path} ${record.idempotencyToken}`;
    const known = key && this.byToken.get(key);
    if (known) {
      record.replayed = true;
      return send(known);
    }
    const answer = this.route(record);
    // Only a resource made (2xx) is remembered: a request refused may be sent again.
    if (key && answer.status < 300) this.byToken.set(key, answer);
    send(fault?.afterActing ? error(fault.status, fault.code, fault.message) : answer);
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const [user, pass] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === this.accountSid && pass === this.authToken;
  }

  private route(r: TwilioRestRequest): Answer {
    const base = `/2010-04-01/Accounts/${this.accountSid}`;
    if (r.method !== 'POST' || !r.path.startsWith(`${base}/`))
      return error(404, 20404, `The requested resource ${r.path} was not found`);
    const rest = r.path.slice(base.length);
    const update = /^\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(rest);
    if (update) return this.updateCall(update[1]!, r.form);
    if (rest === '/Calls.json') return this.createCall(r.form);
    if (rest === '/Messages.json') return this.createMessage(r.form);
    return error(404, 20404, `The requested resource ${r.path} was not found`);
  }

  private updateCall(callSid: string, form: Record<string, string>): Answer {
    const call = this.calls.get(callSid);
    if (!call) {
      return error(404, 20404, `The requested resource /Calls/${callSid}.json was not found`);
    }
    if (!form.Twiml && !form.Url && !form.Status)
      return error(400, 21201, 'No Twiml, Url or Status parameter provided');
    if (form.Twiml || form.Url) {
      if (call.status !== 'in-progress')
        return error(400, 21220, 'Call is not in-progress. Cannot redirect.');
      call.twiml = form.Twiml;
      call.url = form.Url;
    }
    if (form.Status === 'completed') call.status = 'completed';
    return { status: 200, body: this.callJson(call) };
  }

  private createCall(form: Record<string, string>): Answer {
    const missing = ['To', 'From'].find((f) => !form[f]);
    if (missing) return error(400, 21201, `Required parameter "${missing}" missing.`);
    if (!form.Twiml && !form.Url && !form.ApplicationSid)
      return error(400, 21205, 'Url, Twiml or ApplicationSid parameter is required');
    const call: TwilioCallResource = {
      sid: sid('CA'),
      to: form.To!,
      from: form.From!,
      status: 'queued',
      ...(form.Twiml && { twiml: form.Twiml }),
      ...(form.Url && { url: form.Url }),
      ...(form.StatusCallback && { statusCallback: form.StatusCallback }),
    };
    this.calls.set(call.sid, call);
    return { status: 201, body: this.callJson(call) };
  }

  private createMessage(form: Record<string, string>): Answer {
    if (!form.To) return error(400, 21604, "A 'To' phone number is required.");
    if (!form.From && !form.MessagingServiceSid)
      return error(400, 21603, "A 'From' phone number is required.");
    if (!form.Body && !form.MediaUrl) return error(400, 21602, 'Message body is required.');
    const message: TwilioMessageResource = {
      sid: sid('SM'),
      to: form.To,
      from: form.From ?? '',
      body: form.Body ?? '',
      status: 'queued',
    };
    this.messages.set(message.sid, message);
    return {
      status: 201,
      body: {
        sid: message.sid,
        account_sid: this.accountSid,
        to: message.to,
        from: message.from,
        body: message.body,
        status: message.status,
        direction: 'outbound-api',
        num_segments: '1',
        api_version: '2010-04-01',
        date_created: new Date().toUTCString(),
        uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${message.sid}.json`,
      },
    };
  }

  private callJson(call: TwilioCallResource) {
    return {
      sid: call.sid,
      account_sid: this.accountSid,
      to: call.to,
      from: call.from,
      status: call.status,
      direction: call.status === 'queued' ? 'outbound-api' : 'inbound',
      api_version: '2010-04-01',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${call.sid}.json`,
    };
  }
}

function error(status: number, code: number, message: string): Answer {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}
