// Activities of the hand-off to a human: the live call transferred, a text sent, a caller
// called back. Each carries the idempotency key the workflow derived from its id and the
// step, and a retry (or a worker that crashed after the request landed) says when the first
// try was made, so the vendor's adapter can find what it made: nothing is made twice.
import { Context } from '@temporalio/activity';
import { asActivities } from './errors';
import { redactText } from '../conversation/safety/redact';
import type {
  CallbackRequest,
  SmsRequest,
  Telephony,
  TelephonyCallOptions,
  TelephonyReceipt,
  TransferRequest,
  WarmTransferRequest,
} from '../providers/telephony/port';

export function createTelephonyActivities(telephony: Telephony) {
  return asActivities({
    async transferCall(req: TransferRequest & { callSid: string }): Promise<TelephonyReceipt> {
      const { callSid, ...transfer } = req;
      return telephony.transfer(callSid, transfer, retried());
    },

    async warmTransfer(req: WarmTransferRequest & { callSid: string }): Promise<TelephonyReceipt> {
      const { callSid, ...transfer } = req;
      return telephony.warmTransfer(callSid, transfer, retried());
    },

    async sayAndHangUp(req: {
      callSid: string;
      text: string;
      idempotencyKey: string;
    }): Promise<TelephonyReceipt> {
      const { callSid, ...line } = req;
      return telephony.sayAndHangUp(callSid, line, retried());
    },

    // A text may carry an agent's line (one the apology replaced): card data never leaves.
    async sendSms(req: SmsRequest): Promise<TelephonyReceipt> {
      return telephony.sendSms({ ...req, body: redactText(req.body) }, retried());
    },

    async placeCallback(req: CallbackRequest): Promise<TelephonyReceipt> {
      return telephony.placeCallback(req, retried());
    },
  });
}

/** A retry's first try: Temporal keeps the first attempt's scheduling time across attempts. */
function retried(): TelephonyCallOptions {
  const { attempt, scheduledTimestampMs } = Context.current().info;
  return attempt > 1 ? { firstTriedAt: new Date(scheduledTimestampMs) } : {};
}

export type TelephonyActivities = ReturnType<typeof createTelephonyActivities>;
