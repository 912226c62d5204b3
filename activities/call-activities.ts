// Activities of the call workflow: thin wrappers that call a port, its errors mapped to
// the failure types by errors.ts (asActivities). Built from their dependencies so tests and the
// benchmark can run them against any adapter.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BalanceView, Intent, IntentName } from '../contracts/call';
import { FailureType, asActivities, failure } from './errors';
import type { PaymentActivityDeps } from './payment-activities';
import type { Billing, PaymentReceipt } from '../providers/billing/port';
import type { CallLog, CrmClient } from '../providers/crm/port';
import type { IntentClassifier } from '../providers/intent/port';

export interface CallActivityDeps {
  crm: CrmClient;
  billing: Billing;
  intent: IntentClassifier;
  /** The payment saga's reservations and card processor (workflows/payment-saga.ts). */
  payments: PaymentActivityDeps;
}

export const MAX_UTTERANCE_CHARS = 2000;
/** How long the greeting may wait for the account read ahead. */
const ACCOUNT_AHEAD_WAIT_MS = 250;

/** Intents whose flow starts by reading the caller's account. */
const ACCOUNT_INTENTS: ReadonlySet<IntentName> = new Set([
  'check_balance',
  'pay_bill',
  // Billing questions are answered with the caller's own bill where it fits.
  'ask_billing',
]);

export function createCallActivities({ crm, billing, intent }: CallActivityDeps) {
  const activities = {
    /**
     * Who is calling, with their account when it can be read at once: the edge synthesizes
     * its sentences while the caller speaks. The greeting waits for neither a slow nor a
     * failed account read (it is only a head start).
     */
    async identifyCaller(
      phone: string,
    ): Promise<{ id: string; name: string; account?: BalanceView } | undefined> {
      const c = await crm.findCustomerByPhone(phone);
      if (!c) return undefined;
      const account = await Promise.race([
        activities.getBalance(c.id).catch(() => undefined),
        sleep(ACCOUNT_AHEAD_WAIT_MS, undefined, { ref: false }),
      ]);
      return { id: c.id, name: c.name, ...(account && { account }) };
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
      return billing.payInvoice(req.idempotencyKey, req.invoiceId, req.amountCents);
    },

    /**
     * A turn's intent, plus the caller's account when the intent's flow will read it:
     * one local activity (one workflow activation) per turn instead of two. A failed
     * account read is left to the flow's own getBalance, which retries and reports it.
     */
    async understandTurn(req: {
      text: string;
      customerId?: string;
    }): Promise<{ intent: Intent; account?: BalanceView }> {
      const understood = await activities.classifyIntent(req.text);
      if (!req.customerId || !ACCOUNT_INTENTS.has(understood.name)) return { intent: understood };
      const account = await activities.getBalance(req.customerId).catch(() => undefined);
      return { intent: understood, ...(account && { account }) };
    },

    async writeCallLog(req: {
      idempotencyKey: string;
      log: CallLog;
    }): Promise<{ id: string; created: boolean }> {
      return crm.writeCallLog(req.idempotencyKey, req.log);
    },
  };
  return asActivities(activities);
}

export type CallActivities = ReturnType<typeof createCallActivities>;
