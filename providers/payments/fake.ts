// The fake card processor, in process memory (benchmark, tests without a database): the
// same contract as the local PostgreSQL gateway, one charge per idempotency key; `failures`
// makes it fail on demand.
import { FakeFailures } from '../fake-failures';
import {
  CardDeclinedError,
  type ChargeRequest,
  type GatewayCharge,
  type PaymentGateway,
} from './port';

interface StoredCharge {
  chargeId: string;
  amountCents: number;
  status: GatewayCharge['status'];
  request?: ChargeRequest;
}

export class FakePaymentGateway implements PaymentGateway {
  readonly name = 'fake-payments';
  readonly failures = new FakeFailures(this.name);
  /** Charges by idempotency key (the processor's idempotency store). */
  readonly charges = new Map<string, StoredCharge>();
  /** Keys of the refunds made. */
  readonly refunds = new Set<string>();
  private lastId = 0;

  async charge(idempotencyKey: string, req: ChargeRequest): Promise<GatewayCharge> {
    await this.failures.check();
    const prior = this.charges.get(idempotencyKey);
    if (prior) return view(prior, false);
    if (!Number.isSafeInteger(req.amountCents) || req.amountCents <= 0)
      throw new CardDeclinedError('invalid_amount', `cannot charge ${req.amountCents} cents`);
    const row: StoredCharge = {
      chargeId: `ch_mem_${++this.lastId}`,
      amountCents: req.amountCents,
      status: 'succeeded',
      request: req,
    };
    this.charges.set(idempotencyKey, row);
    return view(row, true);
  }

  async findCharge(idempotencyKey: string): Promise<GatewayCharge | undefined> {
    await this.failures.check();
    const row = this.charges.get(idempotencyKey);
    return row && view(row, false);
  }

  async refund(
    refundKey: string,
    chargeKey: string,
  ): Promise<{ status: 'refunded' | 'voided'; chargeId?: string; created: boolean }> {
    await this.failures.check();
    let row = this.charges.get(chargeKey);
    if (!row)
      this.charges.set(
        chargeKey,
        (row = { chargeId: `ch_mem_${++this.lastId}`, amountCents: 0, status: 'voided' }),
      );
    if (row.status === 'voided') return { status: 'voided', created: false };
    // One full refund per charge, whatever key asks again (the refunds table's UNIQUE charge).
    const created = row.status === 'succeeded';
    if (created) this.refunds.add(refundKey);
    row.status = 'refunded';
    return { status: 'refunded', chargeId: row.chargeId, created };
  }
}

function view(r: StoredCharge, created: boolean): GatewayCharge {
  return { chargeId: r.chargeId, amountCents: r.amountCents, status: r.status, created };
}
