// Schema of the local CRM/billing database. Idempotency keys are UNIQUE so a retried
// write can never land twice, whatever the activity code does.
import type { Pool, QueryConfig } from 'pg';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  id text PRIMARY KEY,
  name text NOT NULL,
  phone text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS invoices (
  id text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers(id),
  amount_cents integer NOT NULL CHECK (amount_cents >= 0),
  due_date date NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid'))
);
CREATE TABLE IF NOT EXISTS payments (
  id bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  invoice_id text NOT NULL REFERENCES invoices(id),
  amount_cents integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS call_logs (
  id bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  call_sid text NOT NULL,
  customer_id text REFERENCES customers(id),
  caller_number text NOT NULL,
  intent_path text[] NOT NULL,
  disposition text NOT NULL,
  turns integer NOT NULL,
  duration_ms integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS recording_key text;
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS handled_by text;
-- Payment saga. No foreign keys to invoices: the tests' TRUNCATE of the older
-- tables must keep working, and a released key may name an invoice that never existed.
ALTER TABLE payments ADD COLUMN IF NOT EXISTS charge_id text;
CREATE TABLE IF NOT EXISTS payment_reservations (
  id bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  payment_key text NOT NULL UNIQUE,
  invoice_id text NOT NULL,
  customer_id text,
  amount_cents integer NOT NULL CHECK (amount_cents >= 0),
  status text NOT NULL CHECK (status IN ('held', 'committed', 'released')),
  charge_id text,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- One live hold per invoice: two calls can never both charge for one bill.
CREATE UNIQUE INDEX IF NOT EXISTS payment_reservations_one_held
  ON payment_reservations (invoice_id) WHERE status = 'held';
-- The local stand-in for the card processor: its idempotency keys are its own UNIQUE keys.
CREATE TABLE IF NOT EXISTS gateway_charges (
  id text PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  customer_id text,
  amount_cents integer NOT NULL CHECK (amount_cents >= 0),
  currency text NOT NULL DEFAULT 'usd',
  description text NOT NULL DEFAULT '',
  metadata jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('succeeded', 'refunded', 'voided')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS gateway_refunds (
  id text PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  charge_id text NOT NULL UNIQUE REFERENCES gateway_charges(id),
  amount_cents integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;

/**
 * Migration waits for another process's migration (the advisory lock) and runs DDL: longer
 * than the pool's per-statement bound allows, so it sets its own for its session.
 */
const MIGRATION_TIMEOUT_MS = 60_000;

export async function migrate(pool: Pool): Promise<void> {
  // Serialize concurrent migrations (workers and tests may start together).
  const client = await pool.connect();
  // pg honours a per-query query_timeout; its types do not list it.
  const query = (text: string) =>
    client.query({ text, query_timeout: MIGRATION_TIMEOUT_MS } as QueryConfig);
  try {
    await query(`SET statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await query('SELECT pg_advisory_lock(7233001)');
    await query(SCHEMA);
    await query('SELECT pg_advisory_unlock(7233001)');
    await query('RESET statement_timeout');
  } catch (err) {
    // The session is closed, not pooled: that unlocks it too, and no connection is kept
    // with the migration's settings or a query still in flight.
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  client.release();
}

export interface SeedCustomer {
  id: string;
  name: string;
  phone: string;
  invoices: { id: string; amountCents: number; dueDate: string; status?: 'open' | 'paid' }[];
}

/** Demo customers; inserting again changes nothing. */
export const DEMO_CUSTOMERS: SeedCustomer[] = [
  {
    id: 'cus_ada',
    name: 'Ada',
    phone: '+15550100001',
    invoices: [{ id: 'inv_ada_1', amountCents: 4250, dueDate: '2026-12-05' }],
  },
  {
    id: 'cus_grace',
    name: 'Grace',
    phone: '+15550100002',
    invoices: [{ id: 'inv_grace_1', amountCents: 12999, dueDate: '2026-12-12' }],
  },
  {
    id: 'cus_alan',
    name: 'Alan',
    phone: '+15550100003',
    invoices: [{ id: 'inv_alan_1', amountCents: 3000, dueDate: '2026-11-01', status: 'paid' }],
  },
  {
    id: 'cus_katherine',
    name: 'Katherine',
    phone: '+15550100004',
    invoices: [
      { id: 'inv_kat_1', amountCents: 1500, dueDate: '2026-11-28' },
      { id: 'inv_kat_2', amountCents: 6000, dueDate: '2026-12-28' },
    ],
  },
  { id: 'cus_linus', name: 'Linus', phone: '+15550100005', invoices: [] },
];

export async function seed(pool: Pool, customers: SeedCustomer[] = DEMO_CUSTOMERS): Promise<void> {
  for (const c of customers) {
    await pool.query(
      'INSERT INTO customers (id, name, phone) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [c.id, c.name, c.phone],
    );
    for (const i of c.invoices) {
      await pool.query(
        'INSERT INTO invoices (id, customer_id, amount_cents, due_date, status) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [i.id, c.id, i.amountCents, i.dueDate, i.status ?? 'open'],
      );
    }
  }
}
