// Telephony as a fallback chain. Every request is a write under an idempotency key, so it
// goes to the first healthy link only: a try that failed may have landed there, and a
// second carrier would place a second call. More links give a standby carrier when the
// first is turned away by provider health before it is asked.
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type {
  CallbackRequest,
  SmsRequest,
  Telephony,
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
    opts: { signal?: AbortSignal } = {},
  ): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.transfer(callSid, req, { signal }), opts.signal);
  }

  async warmTransfer(
    callSid: string,
    req: WarmTransferRequest,
    opts: { signal?: AbortSignal } = {},
  ): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.warmTransfer(callSid, req, { signal }), opts.signal);
  }

  async sayAndHangUp(
    callSid: string,
    req: { text: string; idempotencyKey: string },
    opts: { signal?: AbortSignal } = {},
  ): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.sayAndHangUp(callSid, req, { signal }), opts.signal);
  }

  async sendSms(req: SmsRequest, opts: { signal?: AbortSignal } = {}): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.sendSms(req, { signal }), opts.signal);
  }

  async placeCallback(
    req: CallbackRequest,
    opts: { signal?: AbortSignal } = {},
  ): Promise<TelephonyReceipt> {
    return this.write((t, signal) => t.placeCallback(req, { signal }), opts.signal);
  }

  private async write(
    call: (t: Telephony, signal: AbortSignal) => Promise<TelephonyReceipt>,
    signal?: AbortSignal,
  ): Promise<TelephonyReceipt> {
    const outcome = await this.runner.run((t, ctx) => call(t, ctx.signal), {
      firstOnly: true,
      ...(signal && { signal }),
    });
    return outcome.value;
  }
}
