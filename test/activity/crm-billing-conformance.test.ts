// One conformance suite for the CrmClient and Billing ports, run against every adapter:
// the PostgreSQL ones on the test database and the fakes of the benchmark, and the
// fallback adapters: wrapping PostgreSQL; reading through [a failing fake, PostgreSQL]; and
// writing past a gated fake to PostgreSQL. Each case starts from the demo customers (plus
// the extra ones it asks for).
import assert from 'node:assert/strict';
import { Pool } from 'pg';
import { PaymentDeclinedError, type Billing } from '../../providers/billing/port';
import type { CallLog, CrmClient } from '../../providers/crm/port';
import { PostgresBilling } from '../../providers/billing/postgres';
import { PostgresCrm } from '../../providers/crm/postgres';
import { LocalPostgresGateway } from '../../providers/payments/local-postgres';
import { FakeBilling } from '../../providers/billing/fake';
import { FallbackBilling } from '../../providers/billing/fallback';
import { FakeCrmClient, FakeCrmStore } from '../../providers/crm/fake';
import { FallbackCrmClient } from '../../providers/crm/fallback';
import type { FallbackGate } from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import { DEMO_CUSTOMERS, seed, type SeedCustomer } from '../../providers/postgres/schema';
import { resetDb } from '../../testing/platform';

/** A fresh CRM + billing pair holding the demo customers and `extra`. */
type AdapterFactory = (extra?: SeedCustomer[]) => Promise<{ crm: CrmClient; billing: Billing }>;

const declined = (err: unknown) => err instanceof PaymentDeclinedError;

const callLog = (over: Partial<CallLog> = {}): CallLog => ({
  callSid: 'CA-conformance',
  customerId: 'cus_ada',
  callerNumber: '+15550100001',
  intentPath: ['check_balance', 'goodbye'],
  disposition: 'resolved',
  turns: 2,
  durationMs: 1234,
  ...over,
});

// Invoices inserted newest first, a tie on the due date and a paid one: the oldest open
// invoice must come from the order (due date, then id), never from insertion order.
const ORDERED: SeedCustomer = {
  id: 'cus_order',
  name: 'Order',
  phone: '+15550100099',
  invoices: [
    { id: 'inv_ord_c', amountCents: 700, dueDate: '2027-02-01' },
    { id: 'inv_ord_b', amountCents: 300, dueDate: '2026-10-15' },
    { id: 'inv_ord_a', amountCents: 200, dueDate: '2026-10-15' },
    { id: 'inv_ord_0', amountCents: 9999, dueDate: '2026-01-01', status: 'paid' },
  ],
};

function crmBillingConformance(adapter: string, create: AdapterFactory): void {
  describe(`CrmClient + Billing conformance: ${adapter}`, function () {
    describe('findCustomerByPhone', () => {
      it('finds a known customer by phone', async () => {
        const { crm } = await create();
        assert.deepEqual(await crm.findCustomerByPhone('+15550100001'), {
          id: 'cus_ada',
          name: 'Ada',
          phone: '+15550100001',
        });
      });

      it('returns undefined for an unknown phone', async () => {
        const { crm } = await create();
        assert.equal(await crm.findCustomerByPhone('+15559999999'), undefined);
        assert.equal(await crm.findCustomerByPhone(''), undefined);
      });
    });

    describe('getBalance', () => {
      it('sums the open invoices and returns the oldest open one', async () => {
        const { crm } = await create();
        assert.deepEqual(await crm.getBalance('cus_katherine'), {
          customerId: 'cus_katherine',
          balanceCents: 7500,
          openInvoice: {
            id: 'inv_kat_1',
            customerId: 'cus_katherine',
            amountCents: 1500,
            dueDate: '2026-11-28',
            status: 'open',
          },
        });
      });

      it('orders open invoices by due date then id, whatever the insertion order; paid ones do not count', async () => {
        const { crm } = await create([ORDERED]);
        const b = await crm.getBalance('cus_order');
        assert.equal(b.balanceCents, 1200);
        assert.equal(b.openInvoice?.id, 'inv_ord_a');
        assert.equal(b.openInvoice?.dueDate, '2026-10-15');
      });

      it('is zero with no open invoice: only paid ones, none at all, unknown customer', async () => {
        const { crm } = await create();
        for (const id of ['cus_alan', 'cus_linus', 'cus_nobody']) {
          const b = await crm.getBalance(id);
          assert.deepEqual([b.customerId, b.balanceCents, b.openInvoice], [id, 0, undefined], id);
        }
      });
    });

    describe('payInvoice', () => {
      it('pays an open invoice once per key; the same key again returns the same payment', async () => {
        const { crm, billing } = await create();
        const first = await billing.payInvoice('conf:pay:1', 'inv_ada_1', 4250);
        assert.equal(first.created, true);
        assert.equal(first.invoiceId, 'inv_ada_1');
        assert.equal(first.amountCents, 4250);
        assert.ok(first.paymentId, 'a payment id');
        const again = await billing.payInvoice('conf:pay:1', 'inv_ada_1', 4250);
        assert.deepEqual(again, { ...first, created: false });
        assert.deepEqual(await crm.getBalance('cus_ada'), {
          customerId: 'cus_ada',
          balanceCents: 0,
          openInvoice: undefined,
        });
      });

      it('concurrent calls with one key make one payment', async () => {
        const { crm, billing } = await create();
        const receipts = await Promise.all(
          Array.from({ length: 6 }, () =>
            billing.payInvoice('conf:pay:race', 'inv_grace_1', 12999),
          ),
        );
        assert.equal(receipts.filter((r) => r.created).length, 1);
        assert.equal(new Set(receipts.map((r) => r.paymentId)).size, 1);
        assert.equal((await crm.getBalance('cus_grace')).balanceCents, 0);
      });

      it('concurrent calls with different keys for one invoice: one pays, the others are declined', async () => {
        const { billing } = await create();
        const results = await Promise.allSettled(
          Array.from({ length: 4 }, (_, i) =>
            billing.payInvoice(`conf:pay:k${i}`, 'inv_grace_1', 12999),
          ),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled' && r.value.created).length, 1);
        const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
        assert.equal(rejected.length, 3);
        assert.ok(rejected.every(declined), String(rejected[0]));
      });

      it('declines a paid invoice, an unknown invoice and a wrong amount', async () => {
        const { billing } = await create();
        await assert.rejects(billing.payInvoice('conf:pay:paid', 'inv_alan_1', 3000), declined);
        await assert.rejects(billing.payInvoice('conf:pay:unknown', 'inv_nope', 100), declined);
        await assert.rejects(billing.payInvoice('conf:pay:amount', 'inv_ada_1', 4249), declined);
        await assert.rejects(billing.payInvoice('conf:pay:amount2', 'inv_ada_1', 42500), declined);
      });

      it('a declined attempt pays nothing and does not use up its key', async () => {
        const { crm, billing } = await create();
        await assert.rejects(billing.payInvoice('conf:pay:retry', 'inv_ada_1', 1), declined);
        assert.equal((await crm.getBalance('cus_ada')).balanceCents, 4250);
        const paid = await billing.payInvoice('conf:pay:retry', 'inv_ada_1', 4250);
        assert.equal(paid.created, true);
      });

      it('a second key for an invoice already paid is declined; the first key still gets its receipt', async () => {
        const { billing } = await create();
        const first = await billing.payInvoice('conf:pay:a', 'inv_kat_1', 1500);
        await assert.rejects(billing.payInvoice('conf:pay:b', 'inv_kat_1', 1500), declined);
        assert.deepEqual(await billing.payInvoice('conf:pay:a', 'inv_kat_1', 1500), {
          ...first,
          created: false,
        });
      });

      it('paying the oldest invoice makes the next one the open invoice', async () => {
        const { crm, billing } = await create();
        await billing.payInvoice('conf:pay:kat', 'inv_kat_1', 1500);
        const b = await crm.getBalance('cus_katherine');
        assert.equal(b.balanceCents, 6000);
        assert.equal(b.openInvoice?.id, 'inv_kat_2');
      });
    });

    describe('writeCallLog', () => {
      it('writes once per key: a repeat returns the first id with created: false', async () => {
        const { crm } = await create();
        const first = await crm.writeCallLog('conf:log:1', callLog());
        assert.equal(first.created, true);
        assert.ok(first.id, 'a call log id');
        assert.deepEqual(await crm.writeCallLog('conf:log:1', callLog({ turns: 99 })), {
          id: first.id,
          created: false,
        });
        const other = await crm.writeCallLog('conf:log:2', callLog());
        assert.equal(other.created, true);
        assert.notEqual(other.id, first.id);
      });

      it('concurrent writes with one key write one log', async () => {
        const { crm } = await create();
        const results = await Promise.all(
          Array.from({ length: 6 }, () => crm.writeCallLog('conf:log:race', callLog())),
        );
        assert.equal(results.filter((r) => r.created).length, 1);
        assert.equal(new Set(results.map((r) => r.id)).size, 1);
      });

      it('writes a log without a customer (unknown caller)', async () => {
        const { crm } = await create();
        const anonymous = callLog({ customerId: undefined });
        assert.equal((await crm.writeCallLog('conf:log:anon', anonymous)).created, true);
      });

      it('rejects a log naming an unknown customer as final bad input (never retried)', async () => {
        const { crm } = await create();
        await assert.rejects(
          crm.writeCallLog('conf:log:bad', callLog({ customerId: 'cus_nobody' })),
          (err) => err instanceof ProviderError && err.kind === 'bad_input' && !err.retryable,
        );
      });
    });

    describe('attachRecording', () => {
      const key = 'recordings/CA-late.wav';

      it('puts a late recording on the call log once: the same key again changes nothing', async () => {
        const { crm } = await create();
        const { id } = await crm.writeCallLog('conf:log:late', callLog({ callSid: 'CA-late' }));
        const first = await crm.attachRecording('CA-late', key);
        assert.deepEqual(first, {
          id,
          log: callLog({ callSid: 'CA-late', recordingKey: key }),
          changed: true,
        });
        assert.deepEqual(await crm.attachRecording('CA-late', key), { ...first, changed: false });
        // The log written again under its key is still the one row, with the recording.
        assert.equal((await crm.writeCallLog('conf:log:late', callLog({ callSid: 'CA-late' }))).id, id); // prettier-ignore
      });

      it('concurrent attaches of one key: one change', async () => {
        const { crm } = await create();
        await crm.writeCallLog('conf:log:late-race', callLog({ callSid: 'CA-late' }));
        const results = await Promise.all(
          Array.from({ length: 6 }, () => crm.attachRecording('CA-late', key)),
        );
        assert.equal(results.filter((r) => r?.changed).length, 1);
      });

      it('no call log yet (still queued): undefined, and the key lands once the log exists', async () => {
        const { crm } = await create();
        assert.equal(await crm.attachRecording('CA-queued', key), undefined);
        await crm.writeCallLog('conf:log:queued', callLog({ callSid: 'CA-queued' }));
        assert.equal((await crm.attachRecording('CA-queued', key))?.log.recordingKey, key);
      });

      it('never overwrites another recording: final bad input', async () => {
        const { crm } = await create();
        await crm.writeCallLog('conf:log:has', callLog({ callSid: 'CA-has', recordingKey: key }));
        await assert.rejects(
          crm.attachRecording('CA-has', 'recordings/other.wav'),
          (err) => err instanceof ProviderError && err.kind === 'bad_input' && !err.retryable,
        );
      });
    });
  });
}

crmBillingConformance('PostgreSQL (test database)', (extra) => postgres(extra));

crmBillingConformance('fake', async (extra = []) => {
  const store = new FakeCrmStore([...DEMO_CUSTOMERS, ...extra]);
  return { crm: new FakeCrmClient(store), billing: new FakeBilling(store) };
});

async function postgres(extra: SeedCustomer[] = []) {
  const db = await resetDb();
  await db.query('TRUNCATE call_logs, payments');
  if (extra.length > 0) await seed(db, extra);
  return { crm: new PostgresCrm(db), billing: new PostgresBilling(db) };
}

/** A fake that fails every call, as a provider that is down. */
function downFake() {
  const store = new FakeCrmStore(DEMO_CUSTOMERS);
  const crm = new FakeCrmClient(store);
  const billing = new FakeBilling(store);
  crm.failures.failWith('unavailable');
  billing.failures.failWith('unavailable');
  return { crm, billing };
}

crmBillingConformance('fallback(PostgreSQL)', async (extra = []) => {
  const pg = await postgres(extra);
  return {
    crm: new FallbackCrmClient([{ provider: 'postgres', port: pg.crm }]),
    billing: new FallbackBilling([{ provider: 'postgres', port: pg.billing }]),
  };
});

// Reads fall through the failing fake to PostgreSQL; writes never fall through (a write
// that failed may have landed), so they go to PostgreSQL itself here.
crmBillingConformance('fallback(failing fake, PostgreSQL) reading', async (extra = []) => {
  const pg = await postgres(extra);
  const down = downFake();
  const chain = new FallbackCrmClient([
    { provider: 'fake', port: down.crm },
    { provider: 'postgres', port: pg.crm },
  ]);
  const crm: CrmClient = {
    findCustomerByPhone: (phone) => chain.findCustomerByPhone(phone),
    getBalance: (customerId) => chain.getBalance(customerId),
    writeCallLog: (key, log) => pg.crm.writeCallLog(key, log),
    attachRecording: (callSid, key) => pg.crm.attachRecording(callSid, key),
  };
  return { crm, billing: pg.billing };
});

// The fake is down and gated (its circuit open): reads and writes go to PostgreSQL.
crmBillingConformance('fallback(gated fake, PostgreSQL)', async (extra = []) => {
  const pg = await postgres(extra);
  const down = downFake();
  const gate: FallbackGate = { skipReason: (p) => (p === 'fake' ? 'circuit open' : undefined) };
  return {
    crm: new FallbackCrmClient(
      [
        { provider: 'fake', port: down.crm },
        { provider: 'postgres', port: pg.crm },
      ],
      gate,
    ),
    billing: new FallbackBilling(
      [
        { provider: 'fake', port: down.billing },
        { provider: 'postgres', port: pg.billing },
      ],
      gate,
    ),
  };
});

describe('PostgreSQL adapters: provider errors', () => {
  it('health check: SELECT 1 answers; a refused connection is unavailable', async () => {
    const { crm, billing } = await postgres();
    await crm.check();
    await billing.check();
    const pool = new Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2_000 });
    try {
      for (const adapter of [new PostgresCrm(pool), new PostgresBilling(pool)]) {
        await assert.rejects(adapter.check(), (err: unknown) => {
          return err instanceof ProviderError && err.kind === 'unavailable';
        });
      }
    } finally {
      await pool.end();
    }
  });

  it('a refused connection is a retryable unavailable, not a decline or a miss', async () => {
    const pool = new Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2_000 });
    const unavailable = (err: unknown) =>
      err instanceof ProviderError && err.kind === 'unavailable' && err.retryable;
    try {
      await assert.rejects(new PostgresCrm(pool).findCustomerByPhone('+15550100001'), unavailable);
      await assert.rejects(
        new PostgresBilling(pool).payInvoice('k', 'inv_ada_1', 4250),
        unavailable,
      );
      const charge = {
        customerId: 'c',
        amountCents: 1,
        currency: 'usd' as const,
        description: 'x',
        metadata: {},
      };
      await assert.rejects(new LocalPostgresGateway(pool).charge('k', charge), unavailable);
    } finally {
      await pool.end();
    }
  });
});
