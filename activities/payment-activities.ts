// Activities of the payment saga (workflows/payment-saga.ts): each step and each
// compensation is one idempotent call with the key the workflow derived for it. The
// commit is the call activities' payInvoice (Billing.payInvoice with the payment key).
import { FailureType, asActivities, failure } from './errors';
import type {
  PaymentReceipt,
  PaymentReservation,
  PaymentReservations,
} from '../providers/billing/port';
import type { GatewayCharge, PaymentGateway } from '../providers/payments/port';

export interface PaymentActivityDeps {
  /** The billing system's reservations (FallbackBilling and the billing adapters implement them). */
  billing: PaymentReservations;
  gateway: PaymentGateway;
  /** How long a hold outlives a saga that never comes back; then another payment may take it. */
  holdMs?: number;
}

/** Longer than any saga runs (its steps retry for under a minute), short enough to free a bill. */
export const DEFAULT_HOLD_MS = 15 * 60_000;

export function createPaymentActivities({
  billing,
  gateway,
  holdMs = DEFAULT_HOLD_MS,
}: PaymentActivityDeps) {
  return asActivities({
    async reservePayment(req: {
      idempotencyKey: string;
      paymentKey: string;
      invoiceId: string;
      amountCents: number;
    }): Promise<PaymentReservation> {
      return billing.reserve(req.idempotencyKey, {
        paymentKey: req.paymentKey,
        invoiceId: req.invoiceId,
        amountCents: req.amountCents,
        holdMs,
      });
    },

    /** Charges the card on file once per key and notes the charge on the reservation. */
    async chargePayment(req: {
      idempotencyKey: string;
      reservationKey: string;
      customerId: string;
      invoiceId: string;
      amountCents: number;
    }): Promise<GatewayCharge> {
      if (!req.customerId)
        throw failure(FailureType.BadInput, `invoice ${req.invoiceId} has no customer to charge`);
      const charge = await gateway.charge(req.idempotencyKey, {
        customerId: req.customerId,
        amountCents: req.amountCents,
        currency: 'usd',
        description: `Invoice ${req.invoiceId}`,
        metadata: { invoice_id: req.invoiceId, payment_key: req.reservationKey },
      });
      if (charge.status === 'succeeded')
        await billing.attachCharge(req.reservationKey, charge.chargeId);
      return charge;
    },

    /** Compensation of reserve, and the pivot after a failed commit (see Billing.release). */
    async releasePayment(req: {
      idempotencyKey: string;
      paymentKey: string;
      invoiceId: string;
    }): Promise<{ status: 'released' } | { status: 'committed'; payment: PaymentReceipt }> {
      return billing.release(req.idempotencyKey, {
        paymentKey: req.paymentKey,
        invoiceId: req.invoiceId,
      });
    },

    /** Compensation of charge: refunds it, or voids its key when it never landed. */
    async refundPayment(req: {
      idempotencyKey: string;
      chargeKey: string;
    }): Promise<{ status: 'refunded' | 'voided'; chargeId?: string; created: boolean }> {
      return gateway.refund(req.idempotencyKey, req.chargeKey);
    },
  });
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
