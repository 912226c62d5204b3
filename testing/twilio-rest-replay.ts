// A local stand-in for Twilio's REST API (api.twilio.com/2010-04-01), which cannot be
// reached from here. It replays the documented exchanges the telephony adapter makes, with
// the real SDK on the other end:
//   POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json   Twiml=…       (redirect a live call)
//   GET  /2010-04-01/Accounts/{AC}/Calls/{CA}.json                 (fetch a call)
//   POST /2010-04-01/Accounts/{AC}/Calls.json        To, From, Twiml|Url, StatusCallback
//   GET  /2010-04-01/Accounts/{AC}/Calls.json        ?To, From, ParentCallSid, PageSize
//   POST /2010-04-01/Accounts/{AC}/Messages.json     To, From, Body
//   GET  /2010-04-01/Accounts/{AC}/Messages.json     ?To, From, PageSize
// HTTP Basic auth (account SID : auth token), form-encoded bodies, JSON resources shaped
// like Twilio's (sid, account_sid, status, date_created in RFC 2822, …), lists newest first
// in Twilio's page shape, and Twilio's error body {code, message, more_info, status}. As
// Twilio does, every POST is acted on: a repeated request is a second message or call, and a
// redirect whose TwiML dials a number starts a child call (ParentCallSid) of the live call.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export const FAKE_TWILIO_ACCOUNT_SID = `AC${'0'.repeat(31)}1`;
export const FAKE_TWILIO_AUTH_TOKEN = 'stand-in-auth-token-0123456789ab';

export interface TwilioRestRequest {
  method: string;
  path: string;
  /** The form body of a POST, the query of a GET. */
  form: Record<string, string>;
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
  /** The live call whose <Dial> started this one. */
  parentCallSid?: string;
  dateCreated: Date;
}

export interface TwilioMessageResource {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
  dateCreated: Date;
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
    this.calls.set(callSid, { sid: callSid, from, to, status: 'in-progress', dateCreated: new Date() }); // prettier-ignore
  }

  /** The next request(s) get this error (after auth). */
  fail(fault: TwilioFault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** The calls this server created (callbacks, agent legs): not the live calls it was given, nor their dials' legs. */
  get createdCalls(): TwilioCallResource[] {
    return [...this.calls.values()].filter((c) => c.status === 'queued' && !c.parentCallSid);
  }

  /** Where the requests stand now: `since` a mark counts only what came after it. */
  mark(): number {
    return this.requests.length;
  }

  /** The redirects a live call was given (each one acted on). */
  redirects(callSid: string, since = 0): TwilioRestRequest[] {
    return this.requests
      .slice(since)
      .filter(
        (r) => r.method === 'POST' && r.path.endsWith(`/Calls/${callSid}.json`) && r.form.Twiml,
      );
  }

  /**
   * What one call's hand-off made at Twilio since a mark, as Twilio acted on it: the live
   * call's transfers (a redirect dialling a number) and last lines (a redirect hanging up),
   * calls placed and texts sent to the caller, agent legs placed to the queue.
   */
  tally(call: { callSid: string; caller: string; queue?: string }, since = 0) {
    const redirects = this.redirects(call.callSid, since).map((r) => r.form.Twiml!);
    return {
      transfers: redirects.filter((t) => /<Dial[^>]*><Number>/.test(t)).length,
      hangUps: redirects.filter((t) => t.includes('<Hangup/>')).length,
      callbacks: this.creations('Calls', call.caller, since).length,
      texts: this.creations('Messages', call.caller, since).length,
      agentLegs: call.queue ? this.creations('Calls', call.queue, since).length : 0,
    };
  }

  /** Calls.create or Messages.create requests to a number (each one acted on). */
  creations(resource: 'Calls' | 'Messages', to: string, since = 0): TwilioRestRequest[] {
    return this.requests
      .slice(since)
      .filter((r) => r.method === 'POST' && r.path.endsWith(`/${resource}.json`) && r.form.To === to); // prettier-ignore
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
    const [path = '', query = ''] = (req.url ?? '').split('?');
    const record: TwilioRestRequest = {
      method: req.method ?? '',
      path,
      form: Object.fromEntries(new URLSearchParams(req.method === 'GET' ? query : raw)),
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
    const answer = this.route(record);
    send(fault?.afterActing ? error(fault.status, fault.code, fault.message) : answer);
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const [user, pass] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === this.accountSid && pass === this.authToken;
  }

  private route(r: TwilioRestRequest): Answer {
    const base = `/2010-04-01/Accounts/${this.accountSid}`;
    const notFound = error(404, 20404, `The requested resource ${r.path} was not found`);
    if (!r.path.startsWith(`${base}/`)) return notFound;
    const rest = r.path.slice(base.length);
    const one = /^\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(rest)?.[1];
    if (r.method === 'GET') {
      if (one) return this.fetchCall(one);
      if (rest === '/Calls.json') return this.listCalls(r.form);
      if (rest === '/Messages.json') return this.listMessages(r.form);
      return notFound;
    }
    if (r.method !== 'POST') return notFound;
    if (one) return this.updateCall(one, r.form);
    if (rest === '/Calls.json') return this.createCall(r.form);
    if (rest === '/Messages.json') return this.createMessage(r.form);
    return notFound;
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
      const dialled = /<Dial[^>]*><Number>([^<]+)<\/Number>/.exec(form.Twiml ?? '')?.[1];
      if (dialled) this.dialLeg(call, dialled);
    }
    if (form.Status === 'completed') call.status = 'completed';
    return { status: 200, body: this.callJson(call) };
  }

  private fetchCall(callSid: string): Answer {
    const call = this.calls.get(callSid);
    if (!call) return error(404, 20404, `The requested resource /Calls/${callSid}.json was not found`); // prettier-ignore
    return { status: 200, body: this.callJson(call) };
  }

  /** A <Dial>'s leg: a child call from the caller's number to the number dialled. */
  private dialLeg(parent: TwilioCallResource, to: string): void {
    const leg: TwilioCallResource = {
      sid: sid('CA'),
      to,
      from: parent.from,
      status: 'ringing',
      parentCallSid: parent.sid,
      dateCreated: new Date(),
    };
    this.calls.set(leg.sid, leg);
  }

  private listCalls(q: Record<string, string>): Answer {
    const calls = [...this.calls.values()].filter(
      (c) =>
        (!q.To || c.to === q.To) &&
        (!q.From || c.from === q.From) &&
        (!q.ParentCallSid || c.parentCallSid === q.ParentCallSid),
    );
    return this.page('calls', 'Calls', q, calls.map((c) => this.callJson(c))); // prettier-ignore
  }

  private listMessages(q: Record<string, string>): Answer {
    const messages = [...this.messages.values()].filter(
      (m) => (!q.To || m.to === q.To) && (!q.From || m.from === q.From),
    );
    return this.page('messages', 'Messages', q, messages.map((m) => this.messageJson(m))); // prettier-ignore
  }

  /** One page, newest first, in Twilio's list shape. */
  private page(
    key: string,
    resource: string,
    q: Record<string, string>,
    items: { date_created: string }[],
  ): Answer {
    // prettier-ignore
    const size = Number(q.PageSize ?? 50);
    const newest = items.reverse().slice(0, size);
    const uri = `/2010-04-01/Accounts/${this.accountSid}/${resource}.json`;
    return {
      status: 200,
      body: {
        [key]: newest,
        first_page_uri: `${uri}?PageSize=${size}&Page=0`,
        next_page_uri: null,
        previous_page_uri: null,
        page: 0,
        page_size: size,
        start: 0,
        end: Math.max(0, newest.length - 1),
        uri: `${uri}?PageSize=${size}&Page=0`,
      },
    };
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
      dateCreated: new Date(),
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
      dateCreated: new Date(),
    };
    this.messages.set(message.sid, message);
    return { status: 201, body: this.messageJson(message) };
  }

  private messageJson(message: TwilioMessageResource) {
    return {
      sid: message.sid,
      account_sid: this.accountSid,
      to: message.to,
      from: message.from,
      body: message.body,
      status: message.status,
      direction: 'outbound-api',
      num_segments: '1',
      api_version: '2010-04-01',
      date_created: message.dateCreated.toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${message.sid}.json`,
    };
  }

  private callJson(call: TwilioCallResource) {
    return {
      sid: call.sid,
      account_sid: this.accountSid,
      to: call.to,
      from: call.from,
      status: call.status,
      direction: call.parentCallSid ? 'outbound-dial' : call.status === 'queued' ? 'outbound-api' : 'inbound', // prettier-ignore
      ...(call.parentCallSid && { parent_call_sid: call.parentCallSid }),
      api_version: '2010-04-01',
      date_created: call.dateCreated.toUTCString(),
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
