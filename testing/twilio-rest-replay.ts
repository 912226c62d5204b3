// A local stand-in for Twilio's REST API (api.twilio.com/2010-04-01), which cannot be
// reached from here. It replays the documented exchanges the telephony adapter makes, with
// the real SDK on the other end:
//   POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json   Twiml=…       (redirect a live call)
//   GET  /2010-04-01/Accounts/{AC}/Calls/{CA}.json                 (fetch a call)
//   POST /2010-04-01/Accounts/{AC}/Calls.json        To, From, Twiml|Url, StatusCallback
//   GET  /2010-04-01/Accounts/{AC}/Calls.json        ?To, From, ParentCallSid, PageSize
//   POST /2010-04-01/Accounts/{AC}/Messages.json     To, From, Body
//   GET  /2010-04-01/Accounts/{AC}/Messages.json     ?To, From, PageSize
//   GET  /2010-04-01/Accounts/{AC}/Conferences.json  ?FriendlyName, Status, PageSize
//   POST …/Conferences/{CF or name}/Participants.json  From, To, Label, Timeout, StatusCallback…
//   GET  …/Conferences/{CF}/Participants/{CA or label}.json
//   POST …/Conferences/{CF}/Participants/{CA or label}.json   Hold, Muted, AnnounceUrl
// HTTP Basic auth (account SID : auth token), form-encoded bodies, JSON resources shaped
// like Twilio's (sid, account_sid, status, date_created in RFC 2822, …), lists newest first
// in Twilio's page shape, and Twilio's error body {code, message, more_info, status}. As
// Twilio does, every POST is acted on: a repeated request is a second message or call, and a
// redirect whose TwiML dials a number starts a child call (ParentCallSid) of the live call.
// A redirect into <Conference> makes the call a participant of the conference of that name
// (created if none is open); a Participants.create names it the same way, dials a new call,
// and is refused (16026) while another participant holds its label. Conference events are not
// sent from here: a test posts them to the edge itself.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export const FAKE_TWILIO_ACCOUNT_SID = `AC${'0'.repeat(31)}1`;
export const FAKE_TWILIO_AUTH_TOKEN = 'stand-in-auth-token-0123456789ab';

export interface TwilioRestRequest {
  method: string;
  path: string;
  /** The form body of a POST, the query of a GET (a repeated field: its last value). */
  form: Record<string, string>;
  /** A field sent more than once (a list, as the SDK sends one): every value. */
  lists: Record<string, string[]>;
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

export interface TwilioConferenceResource {
  sid: string;
  friendlyName: string;
  status: 'init' | 'in-progress' | 'completed';
  dateCreated: Date;
}

export interface TwilioParticipantResource {
  callSid: string;
  conferenceSid: string;
  label?: string;
  status: string;
  /** Its leaving ends the conference (and every other participant's leg in it). */
  endConferenceOnExit: boolean;
  hold: boolean;
  muted: boolean;
  /** The last announcement asked for this participant. */
  announceUrl?: string;
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
  /** Only requests to a matching path get it (default: any). */
  path?: RegExp;
}

type Answer = { status: number; body: unknown };

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

export class TwilioRestReplayServer {
  readonly requests: TwilioRestRequest[] = [];
  readonly calls = new Map<string, TwilioCallResource>();
  readonly messages = new Map<string, TwilioMessageResource>();
  readonly conferences = new Map<string, TwilioConferenceResource>();
  /** Who is in (or being dialled into) a conference now. */
  readonly participants: TwilioParticipantResource[] = [];
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

  /** The participant with a label in the open conference of that name. */
  participant(conference: string, label: string): TwilioParticipantResource | undefined {
    const open = this.openConference(conference);
    return open && this.participants.find((p) => p.conferenceSid === open.sid && p.label === label); // prettier-ignore
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
      agentLegs: call.queue ? this.creations('Participants', call.queue, since).length : 0,
    };
  }

  /** Calls.create, Messages.create or Participants.create requests to a number. */
  creations(
    resource: 'Calls' | 'Messages' | 'Participants',
    to: string,
    since = 0,
  ): TwilioRestRequest[] {
    // prettier-ignore
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
    const params = new URLSearchParams(req.method === 'GET' ? query : raw);
    const record: TwilioRestRequest = {
      method: req.method ?? '',
      path,
      form: Object.fromEntries(params),
      lists: Object.fromEntries([...params.keys()].map((k) => [k, params.getAll(k)])),
    };
    this.requests.push(record);
    const send = ({ status, body }: Answer): void =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

    if (!this.authorized(req.headers.authorization)) {
      return send(error(401, 20003, 'Authenticate'));
    }
    const fault = this.faults.find((f) => !f.path || f.path.test(path));
    if (fault) {
      if (--fault.times! <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
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
    const joining = /^\/Conferences\/([^/]+)\/Participants\.json$/.exec(rest)?.[1];
    const [, conf, who] = /^\/Conferences\/(CF[0-9a-f]{32})\/Participants\/([^/]+)\.json$/.exec(rest) ?? []; // prettier-ignore
    if (r.method === 'GET') {
      if (one) return this.fetchCall(one);
      if (conf && who) return this.participantAnswer(conf, decodeURIComponent(who));
      if (rest === '/Calls.json') return this.listCalls(r.form);
      if (rest === '/Messages.json') return this.listMessages(r.form);
      if (rest === '/Conferences.json') return this.listConferences(r.form);
      return notFound;
    }
    if (r.method !== 'POST') return notFound;
    if (one) return this.updateCall(one, r.form);
    if (joining) return this.createParticipant(decodeURIComponent(joining), r.form);
    if (conf && who) return this.updateParticipant(conf, decodeURIComponent(who), r.form);
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
      this.leaveConferences(call.sid); // new TwiML takes a call out of its conference
      const conference = /<Conference([^>]*)>([^<]+)<\/Conference>/.exec(form.Twiml ?? '');
      if (conference) {
        const label = /participantLabel="([^"]+)"/.exec(conference[1]!)?.[1];
        const endConferenceOnExit = conference[1]!.includes('endConferenceOnExit="true"');
        this.join(conference[2]!, { callSid: call.sid, status: 'connected', endConferenceOnExit, ...(label && { label }) }); // prettier-ignore
      }
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

  private openConference(name: string): TwilioConferenceResource | undefined {
    return [...this.conferences.values()].find((c) => c.friendlyName === name && c.status !== 'completed'); // prettier-ignore
  }

  /** A participant into the open conference of that name, opening one if none is. */
  private join(
    name: string,
    who: Pick<TwilioParticipantResource, 'callSid' | 'label' | 'status' | 'endConferenceOnExit'>,
  ): TwilioParticipantResource {
    // prettier-ignore
    let conference = this.openConference(name);
    if (!conference) {
      conference = { sid: sid('CF'), friendlyName: name, status: 'init', dateCreated: new Date() };
      this.conferences.set(conference.sid, conference);
    }
    const p = { ...who, conferenceSid: conference.sid, hold: false, muted: false, dateCreated: new Date() }; // prettier-ignore
    this.participants.push(p);
    return p;
  }

  /** The call leaves its conference; one that ends it on exit ends it, and the others' legs with it. */
  private leaveConferences(callSid: string): void {
    const leaving = this.participants.find((p) => p.callSid === callSid);
    if (!leaving) return;
    const ended = leaving.endConferenceOnExit
      ? this.conferences.get(leaving.conferenceSid)
      : undefined;
    if (ended) ended.status = 'completed';
    for (let i = this.participants.length - 1; i >= 0; i--) {
      const p = this.participants[i]!;
      if (p.callSid !== callSid && p.conferenceSid !== ended?.sid) continue;
      this.participants.splice(i, 1);
      const call = this.calls.get(p.callSid);
      if (call && p.callSid !== callSid)
        call.status = p.status === 'connected' ? 'completed' : 'canceled';
    }
  }

  private findParticipant(conferenceSid: string, who: string) {
    return this.participants.find((p) => p.conferenceSid === conferenceSid && (p.callSid === who || p.label === who)); // prettier-ignore
  }

  private createParticipant(sidOrName: string, form: Record<string, string>): Answer {
    const missing = ['To', 'From'].find((f) => !form[f]);
    if (missing) return error(400, 21201, `Required parameter "${missing}" missing.`);
    const name = this.conferences.get(sidOrName)?.friendlyName ?? sidOrName;
    const open = this.openConference(name);
    if (form.Label && open && this.findParticipant(open.sid, form.Label))
      return error(400, 16026, 'Participant label is in use by another participant');
    const call: TwilioCallResource = {
      sid: sid('CA'),
      to: form.To!,
      from: form.From!,
      status: 'queued',
      ...(form.StatusCallback && { statusCallback: form.StatusCallback }),
      dateCreated: new Date(),
    };
    this.calls.set(call.sid, call);
    const endConferenceOnExit = form.EndConferenceOnExit === 'true';
    const p = this.join(name, { callSid: call.sid, status: 'queued', endConferenceOnExit, ...(form.Label && { label: form.Label }) }); // prettier-ignore
    return { status: 201, body: this.participantJson(p) };
  }

  private participantAnswer(conferenceSid: string, who: string): Answer {
    const p = this.findParticipant(conferenceSid, who);
    if (!p) return error(404, 20404, `The requested resource /Conferences/${conferenceSid}/Participants/${who}.json was not found`); // prettier-ignore
    return { status: 200, body: this.participantJson(p) };
  }

  private updateParticipant(
    conferenceSid: string,
    who: string,
    form: Record<string, string>,
  ): Answer {
    // prettier-ignore
    const p = this.findParticipant(conferenceSid, who);
    if (!p) return this.participantAnswer(conferenceSid, who);
    if (form.Hold !== undefined) p.hold = form.Hold === 'true';
    if (form.Muted !== undefined) p.muted = form.Muted === 'true';
    if (form.AnnounceUrl) p.announceUrl = form.AnnounceUrl;
    return { status: 200, body: this.participantJson(p) };
  }

  private listConferences(q: Record<string, string>): Answer {
    const found = [...this.conferences.values()].filter(
      (c) => (!q.FriendlyName || c.friendlyName === q.FriendlyName) && (!q.Status || c.status === q.Status), // prettier-ignore
    );
    return this.page('conferences', 'Conferences', q, found.map((c) => this.conferenceJson(c))); // prettier-ignore
  }

  private conferenceJson(c: TwilioConferenceResource) {
    return {
      sid: c.sid,
      account_sid: this.accountSid,
      friendly_name: c.friendlyName,
      status: c.status,
      region: 'us1',
      api_version: '2010-04-01',
      date_created: c.dateCreated.toUTCString(),
      date_updated: c.dateCreated.toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Conferences/${c.sid}.json`,
    };
  }

  private participantJson(p: TwilioParticipantResource) {
    return {
      account_sid: this.accountSid,
      call_sid: p.callSid,
      conference_sid: p.conferenceSid,
      label: p.label ?? null,
      status: p.status,
      hold: p.hold,
      muted: p.muted,
      coaching: false,
      call_sid_to_coach: null,
      start_conference_on_enter: true,
      end_conference_on_exit: p.endConferenceOnExit,
      date_created: p.dateCreated.toUTCString(),
      date_updated: p.dateCreated.toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Conferences/${p.conferenceSid}/Participants/${p.callSid}.json`,
    };
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
