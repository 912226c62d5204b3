// The payments family: the card processor. Card data never passes here; the processor
// charges the card it holds on file, once per idempotency key.

/** A charge at the card processor (Stripe's PaymentIntent/Charge, reduced to what we use). */
export interface GatewayCharge {
  chargeId: string;
  amountCents: number;
  /** 'voided': the key was cancelled before any charge with it landed; no money moved. */
  status: 'succeeded' | 'refunded' | 'voided';
  /** False when this key had been used already: the first charge is returned. */
  created: boolean;
}

export interface ChargeRequest {
  /** The processor's customer whose card on file is charged (card data never passes here). */
  customerId: string;
  amountCents: number;
  currency: 'usd';
  description: string;
  metadata: Record<string, string>;
}

export interface PaymentGateway {
  readonly name: string;
  /**
   * Charges once per idempotency key, like Stripe's Idempotency-Key: a repeat (a retry after
   * a timeout) returns the first charge with created false and never charges again.
   * CardDeclinedError when the processor refuses the card.
   */
  charge(idempotencyKey: string, req: ChargeRequest): Promise<GatewayCharge>;
  /** The charge made with this key, if any (to decide after an unknown outcome). */
  findCharge(idempotencyKey: string): Promise<GatewayCharge | undefined>;
  /**
   * The compensation: refunds the charge made with chargeKey in full, once per refund key.
   * With no such charge the key is voided, so a charge still in flight with it cannot land.
   */
  refund(
    refundKey: string,
    chargeKey: string,
  ): Promise<{ status: 'refunded' | 'voided'; chargeId?: string; created: boolean }>;
}

/** The processor refused the card (insufficient funds, expired, …): final, not retried. */
export class CardDeclinedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CardDeclinedError';
  }
}
