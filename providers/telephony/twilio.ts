// Twilio's REST API through the official SDK: a live call redirected to new TwiML (the
// transfer), Messages.create (SMS) and Calls.create (the callback). Twilio does not dedupe
// these: a retried Messages.create is a second text, a retried Calls.create a second call,
// a repeated redirect restarts the dial. So a retry (`firstTriedAt`) first looks for what its
// first try made, with Twilio's own list queries, and answers with that:
//   - a transfer: a child call of the live call (the <Dial>'s leg) created since;
//   - a text: a message to the same number from the same line with the same body;
//   - a callback: a call to the same number from the same line.
// A warm transfer's agent leg needs no looking: it is a labelled participant of the call's
// own conference, and Twilio refuses the label twice.
// Twilio's times are whole seconds, so "since" starts a little before the first try.
// Credentials come from the environment only (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN);
// TWILIO_API_BASE_URL points the SDK somewhere other than https://api.twilio.com (a
// regional proxy; the local stand-in in tests).
import twilio from 'twilio';
import type SdkRequestClient from 'twilio/lib/base/RequestClient';
import { ProviderError } from '../provider-error';
import type {
  CallbackRequest,
  SmsRequest,
  Telephony,
  TelephonyCallOptions,
  TelephonyReceipt,
  TransferRequest,
  WarmTransferRequest,
} from './port';
import { CONFERENCE_LABELS } from './port';

const TWILIO_API = 'https://api.twilio.com';
/** Before a retry's first try, for Twilio's whole-second times and clocks a little apart. */
const SINCE_MARGIN_MS = 5_000;
/** The newest resources a retry looks through (one page). */
const LOOK_BACK = 50;
/** Twilio's "participant label is in use by another participant" (a Participants.create). */
const LABEL_IN_USE = 16026;
/** The conference events the edge acts on: a participant joined, an announcement ended. */
const CONFERENCE_EVENTS = ['join', 'announcement'] as const;

/** Why Twilio's REST API cannot be used with this environment, or undefined when it can. */
export function twilioMissingConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.TWILIO_ACCOUNT_SID || !env.TWILIO_AUTH_TOKEN)
    return 'no Twilio credentials (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)';
  if (!env.TWILIO_ACCOUNT_SID.startsWith('AC')) return 'TWILIO_ACCOUNT_SID must start with AC';
  return undefined;
}

/** The SDK's own HTTP client, sent to the configured base URL. */
class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string | undefined,
    timeoutMs: number,
  ) {
    // No SDK retries: Temporal retries the activity, which then looks before it acts again.
    super({ timeout: timeoutMs, autoRetry: false });
  }

  override request<TData>(opts: SdkRequestClient.RequestOptions<TData>) {
    const uri =
      this.baseUrl && opts.uri.startsWith(TWILIO_API)
        ? this.baseUrl + opts.uri.slice(TWILIO_API.length)
        : opts.uri;
    return super.request<TData>({ ...opts, uri });
  }
}

interface Made {
  sid: string;
  status: string;
  dateCreated: Date;
}

export class TwilioTelephony implements Telephony {
  readonly name = 'twilio';
  private readonly client: twilio.Twilio;

  constructor(env: NodeJS.ProcessEnv = process.env, opts: { timeoutMs?: number } = {}) {
    const missing = twilioMissingConfig(env);
    if (missing) throw new Error(`twilio: ${missing}`);
    const base = env.TWILIO_API_BASE_URL?.replace(/\/+$/, '') || undefined;
    // Inside the activity's 10 s: a slow Twilio fails here, with a reason, not by the timeout.
    this.client = twilio(env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, {
      httpClient: new BaseUrlRequestClient(base, opts.timeoutMs ?? 8_000),
    });
  }

  async transfer(
    callSid: string,
    req: TransferRequest,
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    const dialled = await this.madeSince(opts, () =>
      this.client.calls.list({ parentCallSid: callSid, limit: LOOK_BACK }),
    );
    if (dialled) return this.receipt({ sid: callSid, status: 'in-progress' });
    const twiml = new twilio.twiml.VoiceResponse();
    if (req.say) twiml.say(req.say);
    twiml
      .dial({ timeout: req.ringTimeoutInS, action: req.statusUrl, method: 'POST' })
      .number(req.to);
    return this.receipt(
      await this.send(() => this.client.calls(callSid).update({ twiml: twiml.toString() })),
    );
  }

  async warmTransfer(
    callSid: string,
    req: WarmTransferRequest,
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    // The caller waits (Twilio's music) until the agent enters and starts the conference. A
    // retry whose caller is in already leaves them be: leaving would end the conference.
    if (
      !opts.firstTriedAt ||
      !(await this.participantIn(req.conference, CONFERENCE_LABELS.caller))
    ) {
      const hold = new twilio.twiml.VoiceResponse();
      hold.dial().conference(
        {
          participantLabel: CONFERENCE_LABELS.caller,
          startConferenceOnEnter: false,
          endConferenceOnExit: true,
          beep: 'false',
          statusCallback: req.agentStatusUrl,
          statusCallbackMethod: 'POST',
          statusCallbackEvent: [...CONFERENCE_EVENTS],
        },
        req.conference,
      );
      await this.send(() => this.client.calls(callSid).update({ twiml: hold.toString() }));
    }
    // The agent's leg is a participant labelled in the call's own conference: Twilio refuses a
    // second participant with the label while the first is there, so a retry (or a duplicate)
    // finds the leg it made instead of ringing the agents twice.
    try {
      const agent = await this.client.conferences(req.conference).participants.create({
        from: req.from,
        to: req.to,
        label: CONFERENCE_LABELS.agent,
        timeout: req.ringTimeoutInS,
        startConferenceOnEnter: true,
        endConferenceOnExit: true,
        beep: 'false',
        statusCallback: req.agentStatusUrl,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['completed'],
        conferenceStatusCallback: req.agentStatusUrl,
        conferenceStatusCallbackMethod: 'POST',
        conferenceStatusCallbackEvent: [...CONFERENCE_EVENTS],
      });
      return this.receipt({ sid: agent.callSid, status: agent.status });
    } catch (err) {
      if (!(err instanceof twilio.RestException && err.code === LABEL_IN_USE)) throw toProviderError(err); // prettier-ignore
      const agent = await this.participantIn(req.conference, CONFERENCE_LABELS.agent);
      // Refused for a label in use, yet not there: the leg has just left. The retry looks again.
      if (!agent) throw new ProviderError('twilio', 'unavailable', `twilio: the agent leg of ${req.conference} is in use but not listed`); // prettier-ignore
      return this.receipt({ sid: agent.callSid, status: agent.status });
    }
  }

  async briefAgent(conferenceSid: string, req: { announceUrl: string }): Promise<void> {
    const conference = this.client.conferences(conferenceSid);
    await this.send(() => conference.participants(CONFERENCE_LABELS.caller).update({ hold: true }));
    await this.send(() =>
      conference
        .participants(CONFERENCE_LABELS.agent)
        .update({ announceUrl: req.announceUrl, announceMethod: 'POST' }),
    );
  }

  async connectAgent(conferenceSid: string): Promise<void> {
    const caller = this.client.conferences(conferenceSid).participants(CONFERENCE_LABELS.caller);
    await this.send(() => caller.update({ hold: false }));
  }

  /** A labelled participant of the open conference of that name (known by name, not yet by CF sid). */
  private async participantIn(
    conference: string,
    label: string,
  ): Promise<{ callSid: string; status: string } | undefined> {
    const open =
      (await this.send(() => this.client.conferences.list({ friendlyName: conference, limit: LOOK_BACK }))) // prettier-ignore
        .filter((c) => c.status !== 'completed');
    for (const c of open) {
      const found = await this.client
        .conferences(c.sid)
        .participants(label)
        .fetch()
        .catch((err: unknown) => {
          if (err instanceof twilio.RestException && err.status === 404) return undefined;
          throw toProviderError(err);
        });
      if (found) return found;
    }
    return undefined;
  }

  /** A redirect to a last line and a hang-up: on a retry, a call already over is left be. */
  async sayAndHangUp(
    callSid: string,
    req: { text: string; idempotencyKey: string },
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    if (opts.firstTriedAt) {
      const call = await this.send(() => this.client.calls(callSid).fetch());
      if (call.status === 'completed') return this.receipt(call);
    }
    const twiml = new twilio.twiml.VoiceResponse();
    twiml.say(req.text);
    twiml.hangup();
    return this.receipt(
      await this.send(() => this.client.calls(callSid).update({ twiml: twiml.toString() })),
    );
  }

  async sendSms(req: SmsRequest, opts: TelephonyCallOptions = {}): Promise<TelephonyReceipt> {
    const sent = await this.madeSince(opts, async () =>
      (await this.client.messages.list({ to: req.to, from: req.from, limit: LOOK_BACK })).filter(
        (m) => m.body === req.body,
      ),
    );
    if (sent) return this.receipt(sent);
    return this.receipt(
      await this.send(() =>
        this.client.messages.create({ to: req.to, from: req.from, body: req.body }),
      ),
    );
  }

  async placeCallback(
    req: CallbackRequest,
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    const placed = await this.madeSince(opts, () =>
      this.client.calls.list({ to: req.to, from: req.from, limit: LOOK_BACK }),
    );
    if (placed) return this.receipt(placed);
    const twiml = new twilio.twiml.VoiceResponse();
    twiml.say(req.say);
    twiml.dial().number(req.connectTo);
    return this.receipt(
      await this.send(() =>
        this.client.calls.create({ to: req.to, from: req.from, twiml: twiml.toString() }),
      ),
    );
  }

  /** On a retry, the newest resource listed that was made since its first try. */
  private async madeSince(
    opts: TelephonyCallOptions,
    list: () => Promise<Made[]>,
  ): Promise<Made | undefined> {
    if (!opts.firstTriedAt) return undefined;
    const since = opts.firstTriedAt.getTime() - SINCE_MARGIN_MS;
    const made = (await this.send(list)).filter((r) => r.dateCreated.getTime() >= since);
    return made.sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())[0];
  }

  private receipt(r: { sid: string; status: string }): TelephonyReceipt {
    return { sid: r.sid, status: r.status, provider: this.name };
  }

  private async send<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw toProviderError(err);
    }
  }
}

/** Twilio's answer as a ProviderError: by HTTP status, with Twilio's error code kept. */
function toProviderError(err: unknown): ProviderError {
  if (err instanceof twilio.RestException) {
    const code = err.code ? ` ${err.code}` : '';
    return ProviderError.fromStatus(
      'twilio',
      err.status,
      `twilio ${err.status}${code}: ${err.message}`,
    );
  }
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT')
    return new ProviderError('twilio', 'timeout', `twilio: ${e.message}`, { cause: err });
  return ProviderError.from('twilio', err);
}
