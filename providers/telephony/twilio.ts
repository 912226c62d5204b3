// Twilio's REST API through the official SDK: a live call redirected to new TwiML (the
// transfer), Messages.create (SMS) and Calls.create (the callback). Every request carries
// the idempotency key as Twilio's I-Twilio-Idempotency-Token header, so a retried request
// is answered with the first resource instead of making a second one. Credentials come from
// the environment only (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN); TWILIO_API_BASE_URL points
// the SDK somewhere other than https://api.twilio.com (a regional proxy; the local
// stand-in in tests).
import { AsyncLocalStorage } from 'node:async_hooks';
import twilio from 'twilio';
import type SdkRequestClient from 'twilio/lib/base/RequestClient';
import { ProviderError } from '../provider-error';
import type {
  CallbackRequest,
  SmsRequest,
  Telephony,
  TelephonyReceipt,
  TransferRequest,
  WarmTransferRequest,
} from './port';

const TWILIO_API = 'https://api.twilio.com';
export const IDEMPOTENCY_HEADER = 'I-Twilio-Idempotency-Token';

/** Why Twilio's REST API cannot be used with this environment, or undefined when it can. */
export function twilioMissingConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.TWILIO_ACCOUNT_SID || !env.TWILIO_AUTH_TOKEN)
    return 'no Twilio credentials (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)';
  if (!env.TWILIO_ACCOUNT_SID.startsWith('AC')) return 'TWILIO_ACCOUNT_SID must start with AC';
  return undefined;
}

/**
 * The SDK's own HTTP client, given the request's idempotency token (the generated
 * resource methods take no headers) and the base URL.
 */
class TokenRequestClient extends twilio.RequestClient {
  readonly token = new AsyncLocalStorage<string>();

  constructor(
    private readonly baseUrl: string | undefined,
    timeoutMs: number,
  ) {
    // No SDK retries: Temporal retries the activity, with the same token.
    super({ timeout: timeoutMs, autoRetry: false });
  }

  override request<TData>(opts: SdkRequestClient.RequestOptions<TData>) {
    const token = this.token.getStore();
    const uri =
      this.baseUrl && opts.uri.startsWith(TWILIO_API)
        ? this.baseUrl + opts.uri.slice(TWILIO_API.length)
        : opts.uri;
    return super.request<TData>({
      ...opts,
      uri,
      headers: { ...opts.headers, ...(token && { [IDEMPOTENCY_HEADER]: token }) },
    });
  }
}

export class TwilioTelephony implements Telephony {
  readonly name = 'twilio';
  private readonly http: TokenRequestClient;
  private readonly client: twilio.Twilio;

  constructor(env: NodeJS.ProcessEnv = process.env, opts: { timeoutMs?: number } = {}) {
    const missing = twilioMissingConfig(env);
    if (missing) throw new Error(`twilio: ${missing}`);
    const base = env.TWILIO_API_BASE_URL?.replace(/\/+$/, '') || undefined;
    // Inside the activity's 10 s: a slow Twilio fails here, with a reason, not by the timeout.
    this.http = new TokenRequestClient(base, opts.timeoutMs ?? 8_000);
    this.client = twilio(env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, {
      httpClient: this.http,
    });
  }

  async transfer(callSid: string, req: TransferRequest): Promise<TelephonyReceipt> {
    const twiml = new twilio.twiml.VoiceResponse();
    if (req.say) twiml.say(req.say);
    twiml
      .dial({ timeout: req.ringTimeoutInS, action: req.statusUrl, method: 'POST' })
      .number(req.to);
    const call = await this.send(req.idempotencyKey, () =>
      this.client.calls(callSid).update({ twiml: twiml.toString() }),
    );
    return { sid: call.sid, status: call.status, provider: this.name };
  }

  async warmTransfer(callSid: string, req: WarmTransferRequest): Promise<TelephonyReceipt> {
    // The caller holds (Twilio's hold music) until the agent enters and starts the conference.
    const hold = new twilio.twiml.VoiceResponse();
    hold
      .dial()
      .conference(
        { startConferenceOnEnter: false, endConferenceOnExit: true, beep: 'false' },
        req.conference,
      );
    await this.send(`${req.idempotencyKey}:hold`, () =>
      this.client.calls(callSid).update({ twiml: hold.toString() }),
    );
    // The agent hears the summary first, then joins the caller.
    const agent = new twilio.twiml.VoiceResponse();
    agent.say(req.summary);
    agent
      .dial()
      .conference(
        { startConferenceOnEnter: true, endConferenceOnExit: true, beep: 'false' },
        req.conference,
      );
    const leg = await this.send(`${req.idempotencyKey}:agent`, () =>
      this.client.calls.create({
        to: req.to,
        from: req.from,
        twiml: agent.toString(),
        timeout: req.ringTimeoutInS,
        statusCallback: req.agentStatusUrl,
        statusCallbackMethod: 'POST',
      }),
    );
    return { sid: leg.sid, status: leg.status, provider: this.name };
  }

  async sayAndHangUp(
    callSid: string,
    req: { text: string; idempotencyKey: string },
  ): Promise<TelephonyReceipt> {
    const twiml = new twilio.twiml.VoiceResponse();
    twiml.say(req.text);
    twiml.hangup();
    const call = await this.send(req.idempotencyKey, () =>
      this.client.calls(callSid).update({ twiml: twiml.toString() }),
    );
    return { sid: call.sid, status: call.status, provider: this.name };
  }

  async sendSms(req: SmsRequest): Promise<TelephonyReceipt> {
    const msg = await this.send(req.idempotencyKey, () =>
      this.client.messages.create({ to: req.to, from: req.from, body: req.body }),
    );
    return { sid: msg.sid, status: msg.status, provider: this.name };
  }

  async placeCallback(req: CallbackRequest): Promise<TelephonyReceipt> {
    const twiml = new twilio.twiml.VoiceResponse();
    twiml.say(req.say);
    twiml.dial().number(req.connectTo);
    const call = await this.send(req.idempotencyKey, () =>
      this.client.calls.create({ to: req.to, from: req.from, twiml: twiml.toString() }),
    );
    return { sid: call.sid, status: call.status, provider: this.name };
  }

  private async send<T>(token: string, request: () => Promise<T>): Promise<T> {
    try {
      return await this.http.token.run(token, request);
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
