// Billing on the local PostgreSQL database (production: the billing provider's API,
// which takes the same idempotency key).
import type { Pool, PoolClient } from 'pg';
import { PaymentDeclinedError, type Billing, type PaymentReceipt } from '../../ports';

export class PostgresBilling implements Billing {
  constructor(private readonly pool: Pool) {}

  async payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ status: string; amount_cents: number }>(
        'SELECT status, amount_cents FROM invoices WHERE id = $1 FOR UPDATE',
        [invoiceId],
      );
      // Checked under the invoice lock: a concurrent attempt with the same key has
      // either committed its payment (found here) or not started it.
      const prior = await findPayment(client, idempotencyKey);
      if (prior) {
        await client.query('COMMIT');
        return { ...prior, created: false };
      }
      const invoice = rows[0];
      if (!invoice) throw new PaymentDeclinedError(`invoice ${invoiceId} does not exist`);
      if (invoice.status !== 'open')
        throw new PaymentDeclinedError(`invoice ${invoiceId} is already ${invoice.status}`);
      if (invoice.amount_cents !== amountCents)
        throw new PaymentDeclinedError(
          `invoice ${invoiceId} is for ${invoice.amount_cents} cents, not ${amountCents}`,
        );
      // The UNIQUE key is the last guard, whatever the code above gets wrong.
      const paid = await client.query<{ id: string }>(
        'INSERT INTO payments (idempotency_key, invoice_id, amount_cents) VALUES ($1, $2, $3) RETURNING id',
        [idempotencyKey, invoiceId, amountCents],
      );
      await client.query(`UPDATE invoices SET status = 'paid' WHERE id = $1`, [invoiceId]);
      await client.query('COMMIT');
      return { paymentId: String(paid.rows[0]?.id), invoiceId, amountCents, created: true };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
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
