// The PostgreSQL pool against a black-holed database, for real: the real PostgreSQL behind a
// Toxiproxy proxy that accepts connections and drops every byte. A query, a connect and a
// transaction each end in a ProviderError `timeout` (retryable: the breaker counts it, the
// activity's retry policy applies) instead of a hang; once the proxy is cleared the same
// pool serves again (a client whose query got no reply was destroyed, not pooled). The
// provider's breaker counts those timeouts like any other failure.
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { databaseUrl } from '../../infra';
import {
  createPostgresPool,
  DEFAULT_PG_BOUNDS,
  pgBoundsFromEnv,
  type PgBounds,
} from '../../infra/postgres-pool';
import { PostgresBilling } from '../../providers/billing/postgres';
import { PostgresCrm } from '../../providers/crm/postgres';
import { FallbackCrmClient } from '../../providers/crm/fallback';
import { FallbackExhaustedError } from '../../providers/fallback';
import { ProviderHealth } from '../../providers/health/provider-health';
import { QUICK_BREAKER } from '../../testing/degraded';
import { LocalPostgresGateway } from '../../providers/payments/local-postgres';
import { ProviderError } from '../../providers/provider-error';
import { resetDb, testDb } from '../../testing/platform';
import {
  hostPort,
  startFaultProxy,
  throughProxy,
  type FaultProxies,
  type FaultProxy,
} from '../../testing/faults';

const BOUNDS: PgBounds = { ...DEFAULT_PG_BOUNDS, connectTimeoutMs: 500, queryTimeoutMs: 500 };
/** Far above the bounds: reaching it means the wait was not bounded at all. */
const HANG_MS = 15_000;

async function rejection(work: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('still waiting: the wait is not bounded')), HANG_MS);
  });
  try {
    await Promise.race([work, hang]);
  } catch (err) {
    return err;
  } finally {
    clearTimeout(timer);
  }
  assert.fail('the call succeeded through a black hole');
}

function assertTimeout(err: unknown, provider: string): void {
  assert.ok(err instanceof ProviderError, String(err));
  assert.equal(err.kind, 'timeout', err.message);
  assert.equal(err.retryable, true);
  assert.equal(err.provider, provider);
}

describe('PostgreSQL pool: a black-holed database times out, then serves again', function () {
  let faults: FaultProxies;
  let proxy: FaultProxy;
  let pool: Pool;
  const url = databaseUrl('switchboard_test');

  before(async () => {
    faults = await startFaultProxy();
    proxy = await faults.proxy('pg-blackhole', hostPort(url));
  });
  after(async () => {
    await faults?.remove('pg-blackhole');
  });
  beforeEach(async () => {
    await resetDb();
    await proxy.clear();
    // One connection: a client spoiled by an unanswered query, were it pooled again, would
    // hold up every later query.
    pool = createPostgresPool(throughProxy(url, proxy), { max: 1, bounds: BOUNDS });
  });
  afterEach(async () => {
    await proxy.clear();
    await pool.end();
  });

  it('a query on an open connection: timeout, then the pool serves again after clear()', async () => {
    const crm = new PostgresCrm(pool);
    assert.equal((await crm.findCustomerByPhone('+15550100001'))?.id, 'cus_ada');
    assert.equal(pool.idleCount, 1, 'the connection waits in the pool');
    await proxy.blackhole();
    assertTimeout(await rejection(crm.findCustomerByPhone('+15550100001')), 'postgres-crm');
    await proxy.clear();
    assert.equal((await crm.findCustomerByPhone('+15550100002'))?.id, 'cus_grace');
  });

  it('a new connection: connect timeout, then the pool serves again after clear()', async () => {
    const crm = new PostgresCrm(pool);
    await proxy.blackhole();
    assertTimeout(await rejection(crm.getBalance('cus_ada')), 'postgres-crm');
    await proxy.clear();
    assert.equal((await crm.getBalance('cus_ada')).balanceCents, 4250);
  });

  it('a transaction cut off mid-way: timeout, nothing lands, its client is not pooled again', async () => {
    const billing = new PostgresBilling(pool);
    const gateway = new LocalPostgresGateway(pool);
    await gateway.findCharge('warm-up'); // the one connection is open and idle
    await proxy.blackhole();
    const reserve = billing.reserve('bh:reserve', {
      paymentKey: 'bh:pay',
      invoiceId: 'inv_ada_1',
      amountCents: 4250,
      holdMs: 60_000,
    });
    assertTimeout(await rejection(reserve), 'postgres-billing');
    // Its BEGIN is still unanswered: pooled again, the client would hold up the next query.
    assert.equal(pool.totalCount, 0, 'the spoiled client was destroyed, not pooled');
    assertTimeout(await rejection(gateway.refund('bh:refund', 'bh:charge')), 'local-postgres');
    await proxy.clear();
    const db = await testDb(); // straight, not through the proxy
    const held = await db.query('SELECT count(*)::int AS n FROM payment_reservations');
    assert.equal(held.rows[0].n, 0, 'the cut-off transaction landed nothing');
    // The same key again, once the database answers: the hold lands once.
    const r = await billing.reserve('bh:reserve', {
      paymentKey: 'bh:pay',
      invoiceId: 'inv_ada_1',
      amountCents: 4250,
      holdMs: 60_000,
    });
    assert.equal(r.status, 'held');
    assert.equal(r.created, true);
  });

  it("the breaker counts the pool's timeouts: open after two, the CRM then skipped at once; a probe closes it after clear()", async () => {
    const health = new ProviderHealth({ policy: QUICK_BREAKER });
    const crm = new FallbackCrmClient(
      [{ provider: 'postgres', port: new PostgresCrm(pool) }],
      health.forFamily('crm'),
    );
    await proxy.blackhole();
    for (let i = 0; i < 2; i++) {
      const err = await rejection(crm.findCustomerByPhone('+15550100001'));
      assert.ok(err instanceof FallbackExhaustedError, String(err));
      assert.deepEqual(
        err.attempts.map((a) => a.kind),
        ['timeout'],
      );
      assert.equal(err.retryable, true);
    }
    assert.equal(health.state('crm:postgres').state.state, 'open');
    const skipped = await rejection(crm.findCustomerByPhone('+15550100001'));
    assert.ok(skipped instanceof FallbackExhaustedError);
    assert.deepEqual(
      skipped.attempts.map((a) => a.kind),
      ['skipped'],
      'not asked while open',
    );
    await proxy.clear();
    await new Promise((r) => setTimeout(r, QUICK_BREAKER.openMs + 100));
    assert.equal((await crm.findCustomerByPhone('+15550100001'))?.id, 'cus_ada');
    assert.equal(health.state('crm:postgres').state.state, 'closed');
  });

  it('bounds come from PG_*_MS, defaults otherwise; nonsense is refused', () => {
    assert.deepEqual(pgBoundsFromEnv({}), DEFAULT_PG_BOUNDS);
    assert.deepEqual(pgBoundsFromEnv({ PG_QUERY_TIMEOUT_MS: '750', PG_CONNECT_TIMEOUT_MS: '' }), {
      ...DEFAULT_PG_BOUNDS,
      queryTimeoutMs: 750,
    });
    assert.throws(() => pgBoundsFromEnv({ PG_IDLE_TIMEOUT_MS: '-1' }), /PG_IDLE_TIMEOUT_MS/);
  });
});
