// pay_bill as a saga (callWorkflow runs it behind patched('payment-saga')): reserve the invoice (billing) → charge the card (processor) → commit
// the payment (billing). A function the call workflow awaits, not a child workflow: its
// steps are three activities in the call's history, no extra run to start and replay.
// Each step's idempotency key is derived from the workflow id, the invoice and the step,
// so a retry, a crash and a replay all repeat the same keys. After a failure the steps
// done are compensated in reverse (refund or void the charge, release the reservation);
// after a failed commit, release is the pivot: under the invoice lock it either finds the
// payment committed (then the payment stands) or releases the hold (then the charge is
// refunded). Either a whole payment or none: never a charge without a record.
import { ActivityFailure, ApplicationFailure, CancellationScope, log } from '@temporalio/workflow';
import {
  sagaCommit as commit,
  sagaCompensations as compensations,
  sagaSteps as steps,
} from './activity-proxies';
import type { PaymentActivities } from '../activities/payment-activities';

export interface PaymentKeys {
  /** The commit's key: Billing.payInvoice's, the same as before the saga. */
  payment: string;
  /** Of the reservation (reserve, attachCharge and release act on it). */
  reserve: string;
  charge: string;
  refund: string;
}

/** One set of keys per invoice per call: a second "yes" in the same call pays once. */
export function paymentKeys(workflowId: string, invoiceId: string): PaymentKeys {
  const payment = `${workflowId}:pay:${invoiceId}`;
  return {
    payment,
    reserve: `${payment}:reserve`,
    charge: `${payment}:charge`,
    refund: `${payment}:refund`,
  };
}

export type SagaStep = 'reserve' | 'charge' | 'commit';

export type PaymentOutcome =
  | { ok: true; paymentId: string; amountCents: number; chargeId?: string }
  | {
      ok: false;
      failedStep: SagaStep;
      /** Refused (invoice not payable, card declined), as against a provider that failed. */
      declined: boolean;
      reason: string;
      /** What was undone, in order. */
      compensated: ('voided' | 'refunded' | 'released')[];
    };

export async function payBill(req: {
  workflowId: string;
  invoiceId: string;
  amountCents: number;
}): Promise<PaymentOutcome> {
  const { invoiceId, amountCents } = req;
  const keys = paymentKeys(req.workflowId, invoiceId);
  const done: ('voided' | 'refunded' | 'released')[] = [];

  const release = async () => {
    const r = await compensations.releasePayment({
      idempotencyKey: keys.reserve,
      paymentKey: keys.payment,
      invoiceId,
    });
    if (r.status === 'released') done.push('released');
    return r;
  };
  const refund = async () => {
    const r = await compensations.refundPayment({
      idempotencyKey: keys.refund,
      chargeKey: keys.charge,
    });
    done.push(r.status);
  };
  const failed = (failedStep: SagaStep, err: unknown): PaymentOutcome => {
    const reason = describe(err);
    log.warn('payment saga failed', { failedStep, reason, compensated: done });
    return { ok: false, failedStep, declined: isDeclined(err), reason, compensated: done };
  };

  let reservation: Awaited<ReturnType<PaymentActivities['reservePayment']>>;
  try {
    reservation = await steps.reservePayment({
      idempotencyKey: keys.reserve,
      paymentKey: keys.payment,
      invoiceId,
      amountCents,
    });
    if (reservation.status === 'released')
      throw ApplicationFailure.nonRetryable(
        `payment ${keys.payment} was cancelled`,
        'PaymentDeclined',
      );
  } catch (err) {
    // A reserve whose outcome is unknown may still land: releasing its key stops it.
    await CancellationScope.nonCancellable(release);
    return failed('reserve', err);
  }

  let chargeId: string;
  try {
    const charge = await steps.chargePayment({
      idempotencyKey: keys.charge,
      reservationKey: keys.reserve,
      customerId: reservation.customerId,
      invoiceId,
      amountCents,
    });
    if (charge.status !== 'succeeded')
      throw ApplicationFailure.nonRetryable(
        `charge ${charge.chargeId} is ${charge.status}`,
        'PaymentDeclined',
      );
    chargeId = charge.chargeId;
  } catch (err) {
    // Void before release: a charge still in flight must not land after the bill is free.
    await CancellationScope.nonCancellable(async () => {
      await refund();
      await release();
    });
    return failed('charge', err);
  }

  try {
    const receipt = await commit.payInvoice({
      idempotencyKey: keys.payment,
      invoiceId,
      amountCents,
    });
    return { ok: true, paymentId: receipt.paymentId, amountCents: receipt.amountCents, chargeId };
  } catch (err) {
    return CancellationScope.nonCancellable(async () => {
      const pivot = await release();
      // The commit landed after all (its reply was lost): the payment stands, nothing to undo.
      if (pivot.status === 'committed') {
        const p = pivot.payment;
        return { ok: true, paymentId: p.paymentId, amountCents: p.amountCents, chargeId };
      }
      await refund();
      return failed('commit', err);
    });
  }
}

function isDeclined(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === 'PaymentDeclined';
}

function describe(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
