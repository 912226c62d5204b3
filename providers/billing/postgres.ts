// Billing on the local PostgreSQL database (production: the billing provider's API,
// which takes the same idempotency keys). Payments and the payment saga's reservations
// of the payment saga: a reservation holds an invoice for one payment key while the card is charged;
// payInvoice commits it and release ends it, each under the invoice's row lock, so exactly
// one of them wins and the saga knows whether to refund. Database errors are
// ProviderErrors (postgres/errors.ts); a declined payment is PaymentDeclinedError.
import type { HealthCheck } from '../health-check';
import type { Pool, PoolClient } from 'pg';
import { pgCall } from '../postgres/errors';
import { inTransaction } from '../postgres/transaction';
import {
  PaymentDeclinedError,
  type Billing,
  type PaymentReceipt,
  type PaymentReservation,
  type PaymentReservations,
} from './port';

interface ReservationRow {
  payment_key: string;
  invoice_id: string;
  customer_id: string | null;
  amount_cents: number;
  status: PaymentReservation['status'];
  charge_id: string | null;
  expired: boolean;
}

const RESERVATION_COLUMNS =
  'payment_key, invoice_id, customer_id, amount_cents, status, charge_id, expires_at < now() AS expired';

export class PostgresBilling implements Billing, PaymentReservations, HealthCheck {
  readonly name = 'postgres-billing';

  constructor(private readonly pool: Pool) {}

  /** The health check: `SELECT 1` under the pool's bounded connect and query waits. */
  async check(): Promise<void> {
    await pgCall(this.name, () => this.pool.query('SELECT 1'));
  }

  async payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt> {
    return this.tx(async (client) => {
      const { rows } = await client.query<{ status: string; amount_cents: number }>(
        'SELECT status, amount_cents FROM invoices WHERE id = $1 FOR UPDATE',
        [invoiceId],
      );
      // Checked under the invoice lock: a concurrent attempt with the same key has
      // either committed its payment (found here) or not started it.
      const prior = await findPayment(client, idempotencyKey);
      if (prior) return { ...prior, created: false };
      const invoice = rows[0];
      if (!invoice) throw new PaymentDeclinedError(`invoice ${invoiceId} does not exist`);
      if (invoice.status !== 'open')
        throw new PaymentDeclinedError(`invoice ${invoiceId} is already ${invoice.status}`);
      if (invoice.amount_cents !== amountCents)
        throw new PaymentDeclinedError(
          `invoice ${invoiceId} is for ${invoice.amount_cents} cents, not ${amountCents}`,
        );
      // A saga's payment commits only its own live hold; a plain payment (no reservation,
      // the pre-saga path) only an invoice nobody holds.
      const own = await reservationBy(client, 'payment_key', idempotencyKey);
      if (own && own.status !== 'held')
        throw new PaymentDeclinedError(`payment ${idempotencyKey} was ${own.status}`);
      const holder = await client.query<{ payment_key: string }>(
        "SELECT payment_key FROM payment_reservations WHERE invoice_id = $1 AND status = 'held' AND payment_key <> $2",
        [invoiceId, idempotencyKey],
      );
      if (holder.rows.length)
        throw new PaymentDeclinedError(`invoice ${invoiceId} is being paid by another payment`);
      // The UNIQUE key is the last guard, whatever the code above gets wrong.
      const paid = await client.query<{ id: string }>(
        'INSERT INTO payments (idempotency_key, invoice_id, amount_cents, charge_id) VALUES ($1, $2, $3, $4) RETURNING id',
        [idempotencyKey, invoiceId, amountCents, own?.charge_id ?? null],
      );
      await client.query(`UPDATE invoices SET status = 'paid' WHERE id = $1`, [invoiceId]);
      if (own)
        await client.query(
          "UPDATE payment_reservations SET status = 'committed', updated_at = now() WHERE payment_key = $1",
          [idempotencyKey],
        );
      return { paymentId: String(paid.rows[0]?.id), invoiceId, amountCents, created: true };
    });
  }

  async reserve(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string; amountCents: number; holdMs: number },
  ): Promise<PaymentReservation> {
    return this.tx(async (client) => {
      const { rows } = await client.query<{
        status: string;
        amount_cents: number;
        customer_id: string;
      }>('SELECT status, amount_cents, customer_id FROM invoices WHERE id = $1 FOR UPDATE', [
        req.invoiceId,
      ]);
      const prior = await reservationBy(client, 'idempotency_key', idempotencyKey);
      if (prior) return toReservation(prior, false);
      const invoice = rows[0];
      if (!invoice) throw new PaymentDeclinedError(`invoice ${req.invoiceId} does not exist`);
      if (invoice.status !== 'open')
        throw new PaymentDeclinedError(`invoice ${req.invoiceId} is already ${invoice.status}`);
      if (invoice.amount_cents !== req.amountCents)
        throw new PaymentDeclinedError(
          `invoice ${req.invoiceId} is for ${invoice.amount_cents} cents, not ${req.amountCents}`,
        );
      const held = await client.query<ReservationRow>(
        `SELECT ${RESERVATION_COLUMNS} FROM payment_reservations WHERE invoice_id = $1 AND status = 'held'`,
        [req.invoiceId],
      );
      const other = held.rows[0];
      if (other && !other.expired)
        throw new PaymentDeclinedError(`invoice ${req.invoiceId} is being paid by another payment`);
      // An abandoned hold (its saga never came back) is released; should that saga resume,
      // its commit is declined and it refunds.
      if (other)
        await client.query(
          "UPDATE payment_reservations SET status = 'released', updated_at = now() WHERE payment_key = $1",
          [other.payment_key],
        );
      const inserted = await client.query<ReservationRow>(
        `INSERT INTO payment_reservations
           (idempotency_key, payment_key, invoice_id, customer_id, amount_cents, status, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'held', now() + make_interval(secs => $6::double precision / 1000))
         RETURNING ${RESERVATION_COLUMNS}`,
        [
          idempotencyKey,
          req.paymentKey,
          req.invoiceId,
          invoice.customer_id,
          req.amountCents,
          req.holdMs,
        ],
      );
      return toReservation(inserted.rows[0]!, true);
    });
  }

  async attachCharge(idempotencyKey: string, chargeId: string): Promise<void> {
    await pgCall(this.name, () =>
      this.pool.query(
        "UPDATE payment_reservations SET charge_id = $2, updated_at = now() WHERE idempotency_key = $1 AND status = 'held' AND charge_id IS NULL",
        [idempotencyKey, chargeId],
      ),
    );
  }

  async release(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string },
  ): Promise<{ status: 'released' } | { status: 'committed'; payment: PaymentReceipt }> {
    return this.tx(async (client) => {
      // The same lock as payInvoice: release and commit are serialized per invoice.
      await client.query('SELECT 1 FROM invoices WHERE id = $1 FOR UPDATE', [req.invoiceId]);
      const payment = await findPayment(client, req.paymentKey);
      if (payment) return { status: 'committed', payment: { ...payment, created: false } };
      const updated = await client.query(
        "UPDATE payment_reservations SET status = 'released', updated_at = now() WHERE idempotency_key = $1 AND status = 'held'",
        [idempotencyKey],
      );
      if (!updated.rowCount)
        // Never reserved (the reserve failed or is still in flight): a released tombstone
        // under both keys, so that reserve and its payment can no longer land.
        await client.query(
          `INSERT INTO payment_reservations
             (idempotency_key, payment_key, invoice_id, amount_cents, status, expires_at)
           VALUES ($1, $2, $3, 0, 'released', now()) ON CONFLICT DO NOTHING`,
          [idempotencyKey, req.paymentKey, req.invoiceId],
        );
      return { status: 'released' };
    });
  }

  private tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const declined = (err: unknown) => err instanceof PaymentDeclinedError;
    return pgCall(this.name, () => inTransaction(this.pool, fn, declined), declined);
  }
}

async function findPayment(
  client: PoolClient,
  key: string,
): Promise<Omit<PaymentReceipt, 'created'> | undefined> {
  const { rows } = await client.query<{ id: string; invoice_id: string; amount_cents: number }>(
    'SELECT id, invoice_id, amount_cents FROM payments WHERE idempotency_key = $1',
    [key],
  );
  const r = rows[0];
  return r && { paymentId: String(r.id), invoiceId: r.invoice_id, amountCents: r.amount_cents };
}

async function reservationBy(
  client: PoolClient,
  column: 'idempotency_key' | 'payment_key',
  key: string,
): Promise<ReservationRow | undefined> {
  const { rows } = await client.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM payment_reservations WHERE ${column} = $1`,
    [key],
  );
  return rows[0];
}

function toReservation(r: ReservationRow, created: boolean): PaymentReservation {
  return {
    paymentKey: r.payment_key,
    invoiceId: r.invoice_id,
    customerId: r.customer_id ?? '',
    amountCents: r.amount_cents,
    status: r.status,
    ...(r.charge_id && { chargeId: r.charge_id }),
    created,
  };
}
