// Activities of the hand-off to a human: the live call transferred, a text sent, a caller
// called back. Each carries the idempotency key the workflow derived from its id and the
// step, so a retry (or a worker that crashed after the request landed) makes nothing twice.
import { asActivities } from './errors';
import { redactText } from '../conversation/safety/redact';
import type {
  CallbackRequest,
  SmsRequest,
  Telephony,
  TelephonyReceipt,
  TransferRequest,
  WarmTransferRequest,
} from '../providers/telephony/port';

export function createTelephonyActivities(telephony: Telephony) {
  return asActivities({
    async transferCall(req: TransferRequest & { callSid: string }): Promise<TelephonyReceipt> {
      const { callSid, ...transfer } = req;
      return telephony.transfer(callSid, transfer);
    },

    async warmTransfer(req: WarmTransferRequest & { callSid: string }): Promise<TelephonyReceipt> {
      const { callSid, ...transfer } = req;
      return telephony.warmTransfer(callSid, transfer);
    },

    async sayAndHangUp(req: {
      callSid: string;
      text: string;
      idempotencyKey: string;
    }): Promise<TelephonyReceipt> {
      const { callSid, ...line } = req;
      return telephony.sayAndHangUp(callSid, line);
    },

    // A text may carry an agent's line (one the apology replaced): card data never leaves.
    async sendSms(req: SmsRequest): Promise<TelephonyReceipt> {
      return telephony.sendSms({ ...req, body: redactText(req.body) });
    },

    async placeCallback(req: CallbackRequest): Promise<TelephonyReceipt> {
      return telephony.placeCallback(req);
    },
  });
}

export type TelephonyActivities = ReturnType<typeof createTelephonyActivities>;
