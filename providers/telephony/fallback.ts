// Telephony as a fallback chain. Every request is a write (most under an idempotency key), so it
// goes to the first healthy link only: a try that failed may have landed there, and a
// second carrier would place a second call. More links give a standby carrier when the
// first is turned away by provider health before it is asked.
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type {
  CallbackRequest,
  SmsRequest,
  Telephony,
  TelephonyCallOptions,
  TelephonyReceipt,
  TransferRequest,
  WarmTransferRequest,
} from './port';

export class FallbackTelephony implements Telephony {
  private readonly runner: FallbackRunner<Telephony>;

  constructor(links: FallbackLink<Telephony>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('telephony', links, gate);
  }

  async transfer(
    callSid: string,
    req: TransferRequest,
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.transfer(callSid, req, { ...opts, signal }), opts.signal);
  }

  async warmTransfer(
    callSid: string,
    req: WarmTransferRequest,
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    return this.write(
      (t, signal) => t.warmTransfer(callSid, req, { ...opts, signal }),
      opts.signal,
    );
  }

  async briefAgent(
    conferenceSid: string,
    req: { announceUrl: string },
    opts: TelephonyCallOptions = {},
  ): Promise<void> {
    return this.write(
      (t, signal) => t.briefAgent(conferenceSid, req, { ...opts, signal }),
      opts.signal,
    );
  }

  async connectAgent(conferenceSid: string, opts: TelephonyCallOptions = {}): Promise<void> {
    return this.write(
      (t, signal) => t.connectAgent(conferenceSid, { ...opts, signal }),
      opts.signal,
    );
  }

  async sayAndHangUp(
    callSid: string,
    req: { text: string; idempotencyKey: string },
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    return this.write(
      (t, signal) => t.sayAndHangUp(callSid, req, { ...opts, signal }),
      opts.signal,
    );
  }

  async sendSms(req: SmsRequest, opts: TelephonyCallOptions = {}): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.sendSms(req, { ...opts, signal }), opts.signal);
  }

  async placeCallback(
    req: CallbackRequest,
    opts: TelephonyCallOptions = {},
  ): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.placeCallback(req, { ...opts, signal }), opts.signal);
  }

  private async write<T>(
    call: (t: Telephony, signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const outcome = await this.runner.run((t, ctx) => call(t, ctx.signal), {
      firstOnly: true,
      ...(signal && { signal }),
    });
    return outcome.value;
  }
}
