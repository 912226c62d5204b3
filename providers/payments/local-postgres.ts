// The local card processor: a PostgreSQL table standing in for the payment provider
// (production: Stripe or another processor, which honour the same Idempotency-Key
// contract). The idempotency key is the table's UNIQUE key, so a retried charge returns the
// first one and never charges twice, whatever the caller does. Database errors are
// ProviderErrors (postgres/errors.ts); a refused card is CardDeclinedError.
import type { Pool } from 'pg';
import { pgCall } from '../postgres/errors';
import { inTransaction } from '../postgres/transaction';
import {
  CardDeclinedError,
  type ChargeRequest,
  type GatewayCharge,
  type PaymentGateway,
} from './port';

interface ChargeRow {
  id: string;
  amount_cents: number;
  status: GatewayCharge['status'];
}

export class LocalPostgresGateway implements PaymentGateway {
  readonly name = 'local-postgres';

  constructor(private readonly pool: Pool) {}

  charge(idempotencyKey: string, req: ChargeRequest): Promise<GatewayCharge> {
    const declined = (err: unknown) => err instanceof CardDeclinedError;
    return pgCall(this.name, () => this.insertCharge(idempotencyKey, req), declined);
  }

  private async insertCharge(idempotencyKey: string, req: ChargeRequest): Promise<GatewayCharge> {
    const prior = await this.findCharge(idempotencyKey);
    if (prior) return prior;
    if (!Number.isSafeInteger(req.amountCents) || req.amountCents <= 0)
      throw new CardDeclinedError('invalid_amount', `cannot charge ${req.amountCents} cents`);
    // Of two concurrent attempts with one key, the second inserts nothing and reads the first's
    // row. No conflict target: the id derives from the key too, so a race may meet either
    // unique index first (a target naming one alone let the primary key's violation through).
    const { rows } = await this.pool.query<ChargeRow>(
      `INSERT INTO gateway_charges
         (id, idempotency_key, customer_id, amount_cents, currency, description, metadata, status)
       VALUES ('ch_' || substr(md5($1), 1, 24), $1, $2, $3, $4, $5, $6, 'succeeded')
       ON CONFLICT DO NOTHING
       RETURNING id, amount_cents, status`,
      [
        idempotencyKey,
        req.customerId,
        req.amountCents,
        req.currency,
        req.description,
        JSON.stringify(req.metadata),
      ],
    );
    const row = rows[0];
    if (row) return toCharge(row, true);
    return (await this.findCharge(idempotencyKey))!;
  }

  async findCharge(idempotencyKey: string): Promise<GatewayCharge | undefined> {
    const { rows } = await pgCall(this.name, () =>
      this.pool.query<ChargeRow>(
        'SELECT id, amount_cents, status FROM gateway_charges WHERE idempotency_key = $1',
        [idempotencyKey],
      ),
    );
    return rows[0] && toCharge(rows[0], false);
  }

  refund(
    refundKey: string,
    chargeKey: string,
  ): Promise<{ status: 'refunded' | 'voided'; chargeId?: string; created: boolean }> {
    return pgCall(this.name, () => this.refundOrVoid(refundKey, chargeKey));
  }

  private refundOrVoid(
    refundKey: string,
    chargeKey: string,
  ): Promise<{ status: 'refunded' | 'voided'; chargeId?: string; created: boolean }> {
    return inTransaction(this.pool, async (client) => {
      // Void the key first: a charge still in flight with it now finds this row instead.
      await client.query(
        `INSERT INTO gateway_charges (id, idempotency_key, amount_cents, status)
         VALUES ('ch_' || substr(md5($1), 1, 24), $1, 0, 'voided')
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [chargeKey],
      );
      const { rows } = await client.query<ChargeRow>(
        'SELECT id, amount_cents, status FROM gateway_charges WHERE idempotency_key = $1 FOR UPDATE',
        [chargeKey],
      );
      const charge = rows[0]!;
      if (charge.status === 'voided') return { status: 'voided' as const, created: false };
      const refunded = await client.query(
        `INSERT INTO gateway_refunds (id, idempotency_key, charge_id, amount_cents)
         VALUES ('re_' || substr(md5($1), 1, 24), $1, $2, $3) ON CONFLICT DO NOTHING`,
        [refundKey, charge.id, charge.amount_cents],
      );
      await client.query("UPDATE gateway_charges SET status = 'refunded' WHERE id = $1", [
        charge.id,
      ]);
      return { status: 'refunded' as const, chargeId: charge.id, created: refunded.rowCount === 1 };
    });
  }
}

function toCharge(r: ChargeRow, created: boolean): GatewayCharge {
  return { chargeId: r.id, amountCents: r.amount_cents, status: r.status, created };
}
