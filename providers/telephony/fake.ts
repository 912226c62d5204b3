// The fake Telephony, in process memory: it keeps what was asked per idempotency key, so a
// repeated key returns the first receipt and is not a second transfer, message or call —
// the port's promise, which a vendor adapter keeps its own way. `failures` makes it fail on
// demand.
import { FakeFailures } from '../fake-failures';
import { ProviderError } from '../provider-error';
import type {
  CallbackRequest,
  SmsRequest,
  Telephony,
  TelephonyReceipt,
  TransferRequest,
  WarmTransferRequest,
} from './port';

export type FakeTelephonyRequest =
  | { kind: 'transfer'; callSid: string; req: TransferRequest }
  | { kind: 'warm'; callSid: string; req: WarmTransferRequest }
  | { kind: 'hangup'; callSid: string; req: { text: string; idempotencyKey: string } }
  | { kind: 'sms'; req: SmsRequest }
  | { kind: 'callback'; req: CallbackRequest };

/** A warm transfer's conference moved: the agent briefed, then connected to the caller. */
export interface ConferenceMove {
  kind: 'brief' | 'connect';
  conferenceSid: string;
  announceUrl?: string;
}

export class FakeTelephony implements Telephony {
  readonly failures = new FakeFailures('fake-telephony');
  /** Every distinct request, by idempotency key, in arrival order. */
  readonly done = new Map<string, { request: FakeTelephonyRequest; receipt: TelephonyReceipt }>();
  /** The briefings and connections of warm transfers' conferences, in order. */
  readonly conferenceMoves: ConferenceMove[] = [];
  /** Calls that exist (transfer targets); empty means any call exists. */
  readonly liveCalls = new Set<string>();
  private lastId = 0;

  constructor(readonly provider = 'fake-telephony') {}

  async transfer(callSid: string, req: TransferRequest): Promise<TelephonyReceipt> {
    await this.failures.check();
    this.requireLive(callSid);
    return this.once({ kind: 'transfer', callSid, req }, callSid, 'in-progress');
  }

  async warmTransfer(callSid: string, req: WarmTransferRequest): Promise<TelephonyReceipt> {
    await this.failures.check();
    this.requireLive(callSid);
    return this.once({ kind: 'warm', callSid, req }, this.sid('CA'), 'queued');
  }

  async briefAgent(conferenceSid: string, req: { announceUrl: string }): Promise<void> {
    await this.failures.check();
    this.conferenceMoves.push({ kind: 'brief', conferenceSid, announceUrl: req.announceUrl });
  }

  async connectAgent(conferenceSid: string): Promise<void> {
    await this.failures.check();
    this.conferenceMoves.push({ kind: 'connect', conferenceSid });
  }

  async sayAndHangUp(
    callSid: string,
    req: { text: string; idempotencyKey: string },
  ): Promise<TelephonyReceipt> {
    await this.failures.check();
    this.requireLive(callSid);
    return this.once({ kind: 'hangup', callSid, req }, callSid, 'in-progress');
  }

  async sendSms(req: SmsRequest): Promise<TelephonyReceipt> {
    await this.failures.check();
    if (!req.body.trim()) throw new ProviderError(this.provider, 'bad_input', 'empty message body');
    return this.once({ kind: 'sms', req }, this.sid('SM'), 'queued');
  }

  async placeCallback(req: CallbackRequest): Promise<TelephonyReceipt> {
    await this.failures.check();
    return this.once({ kind: 'callback', req }, this.sid('CA'), 'queued');
  }

  /** The requests of one kind, in order. */
  of<K extends FakeTelephonyRequest['kind']>(
    kind: K,
  ): Extract<FakeTelephonyRequest, { kind: K }>[] {
    return [...this.done.values()]
      .map((d) => d.request)
      .filter((r): r is Extract<FakeTelephonyRequest, { kind: K }> => r.kind === kind);
  }

  private once(request: FakeTelephonyRequest, sid: string, status: string): TelephonyReceipt {
    const key = request.req.idempotencyKey;
    const known = this.done.get(key);
    if (known) return known.receipt;
    const receipt = { sid, status, provider: this.provider };
    this.done.set(key, { request, receipt });
    return receipt;
  }

  private requireLive(callSid: string): void {
    if (this.liveCalls.size > 0 && !this.liveCalls.has(callSid))
      throw new ProviderError(this.provider, 'not_found', `call ${callSid} not found`);
  }

  private sid(prefix: string): string {
    return `${prefix}${(++this.lastId).toString(16).padStart(32, '0')}`;
  }
}
