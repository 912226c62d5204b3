// Activities of the call workflow: thin wrappers that call a port and map its errors
// to the failure types of errors.ts. Built from their dependencies so tests and the
// benchmark can run them against any adapter.
import type { Intent } from '../workflows/definitions';
import { FailureType, failure } from './errors';
import {
  PaymentDeclinedError,
  type Billing,
  type CallLog,
  type CrmClient,
  type IntentClassifier,
  type PaymentReceipt,
} from './ports';

export interface CallActivityDeps {
  crm: CrmClient;
  billing: Billing;
  intent: IntentClassifier;
}

export interface BalanceView {
  balanceCents: number;
  openInvoice?: { invoiceId: string; amountCents: number; dueDate: string };
}

export const MAX_UTTERANCE_CHARS = 2000;

export function createCallActivities({ crm, billing, intent }: CallActivityDeps) {
  return {
    async identifyCaller(phone: string): Promise<{ id: string; name: string } | undefined> {
      const c = await crm.findCustomerByPhone(phone);
      return c && { id: c.id, name: c.name };
    },

    async classifyIntent(text: string): Promise<Intent> {
      if (text.length > MAX_UTTERANCE_CHARS)
        throw failure(
          FailureType.BadInput,
          `utterance longer than ${MAX_UTTERANCE_CHARS} characters`,
        );
      return intent.classify(text);
    },

    async getBalance(customerId: string): Promise<BalanceView> {
      const b = await crm.getBalance(customerId);
      const inv = b.openInvoice;
      return {
        balanceCents: b.balanceCents,
        openInvoice: inv && {
          invoiceId: inv.id,
          amountCents: inv.amountCents,
          dueDate: inv.dueDate,
        },
      };
    },

    async payInvoice(req: {
      idempotencyKey: string;
      invoiceId: string;
      amountCents: number;
    }): Promise<PaymentReceipt> {
      try {
        return await billing.payInvoice(req.idempotencyKey, req.invoiceId, req.amountCents);
      } catch (err) {
        if (err instanceof PaymentDeclinedError)
          throw failure(FailureType.PaymentDeclined, err.message, err);
        throw err;
      }
    },

    async writeCallLog(req: {
      idempotencyKey: string;
      log: CallLog;
    }): Promise<{ id: string; created: boolean }> {
      return crm.writeCallLog(req.idempotencyKey, req.log);
    },
  };
}

export type CallActivities = ReturnType<typeof createCallActivities>;
