// The data-side fallback adapters' own behaviour: reads fall through to the next provider,
// writes under an idempotency key never reach a second provider after a try that may have
// landed, a gated provider is passed over, a domain answer (a declined payment, an invalid
// event) passes as it is; and the runner's options they rest on.
import assert from 'node:assert/strict';
import { FakeBilling } from '../../providers/billing/fake';
import { FallbackBilling } from '../../providers/billing/fallback';
import { PaymentDeclinedError } from '../../providers/billing/port';
import { FakeCrmClient, FakeCrmStore } from '../../providers/crm/fake';
import { FallbackCrmClient } from '../../providers/crm/fallback';
import type { CallLog } from '../../providers/crm/port';
import { FakeEmbedder } from '../../providers/embeddings/fake';
import { FallbackEmbedder } from '../../providers/embeddings/fallback';
import { FakeEventBus } from '../../providers/events/fake';
import { FallbackEventBus } from '../../providers/events/fallback';
import { EventValidationError } from '../../providers/events/port';
import {
  FallbackExhaustedError,
  FallbackRunner,
  type FallbackGate,
} from '../../providers/fallback';
import { FakeIntentClassifier } from '../../providers/intent/fake';
import { FallbackIntentClassifier } from '../../providers/intent/fallback';
import { FakeObjectStore } from '../../providers/object-store/fake';
import { FallbackObjectStore } from '../../providers/object-store/fallback';
import { FakePaymentGateway } from '../../providers/payments/fake';
import { FallbackPaymentGateway } from '../../providers/payments/fallback';
import { CardDeclinedError } from '../../providers/payments/port';
import { DEMO_CUSTOMERS } from '../../providers/postgres/schema';
import { ProviderError } from '../../providers/provider-error';
import { FakeVectorIndex } from '../../providers/vectors/fake';
import { FallbackVectorIndex } from '../../providers/vectors/fallback';
import { FakeWarehouse } from '../../providers/warehouse/fake';
import { FallbackWarehouse } from '../../providers/warehouse/fallback';
import { callEvents } from '../../testing/event-fixtures';

/** A gate that passes over the named providers (an open circuit). */
const gate = (...closed: string[]): FallbackGate => ({
  skipReason: (p) => (closed.includes(p) ? 'circuit open' : undefined),
});

const log: CallLog = {
  callSid: 'CA-fallback',
  callerNumber: '+15550100001',
  intentPath: ['goodbye'],
  disposition: 'resolved',
  turns: 1,
  durationMs: 10,
};

function exhausted(err: unknown): FallbackExhaustedError {
  assert.ok(err instanceof FallbackExhaustedError, String(err));
  return err;
}

describe('data-side fallback adapters', () => {
  describe('CRM', () => {
    const pair = () => {
      const a = new FakeCrmClient(new FakeCrmStore(DEMO_CUSTOMERS));
      const b = new FakeCrmClient(new FakeCrmStore(DEMO_CUSTOMERS));
      return {
        a,
        b,
        links: [
          { provider: 'a', port: a },
          { provider: 'b', port: b },
        ],
      };
    };

    it('a read falls through to the next provider and records why the first did not serve', async () => {
      const { a, b, links } = pair();
      a.failures.failWith('unavailable');
      const crm = new FallbackCrmClient(links);
      assert.equal((await crm.findCustomerByPhone('+15550100001'))?.id, 'cus_ada');
      assert.equal((await crm.getBalance('cus_ada')).balanceCents, 4250);
      assert.deepEqual([a.failures.calls, b.failures.calls], [2, 2]);
    });

    it('a call log that may have landed is never written to a second CRM', async () => {
      const { a, b, links } = pair();
      a.failures.failWith('timeout');
      const crm = new FallbackCrmClient(links);
      const err = exhausted(await crm.writeCallLog('k1', log).catch((e: unknown) => e));
      assert.equal(err.retryable, true, 'the activity retries it, against the same CRM');
      assert.deepEqual(
        err.attempts.map((x) => [x.provider, x.kind]),
        [['a', 'timeout']],
      );
      assert.equal(b.failures.calls, 0);
      assert.equal(b.store.callLogs.size, 0);
    });

    it('a gated CRM is passed over: the write goes to the first healthy one', async () => {
      const { a, b, links } = pair();
      const crm = new FallbackCrmClient(links, gate('a'));
      assert.equal((await crm.writeCallLog('k1', log)).created, true);
      assert.deepEqual([a.failures.calls, b.store.callLogs.size], [0, 1]);
    });

    it('a permanent write error is final: bad_input, not retryable', async () => {
      const { links } = pair();
      const crm = new FallbackCrmClient(links);
      const err = exhausted(
        await crm.writeCallLog('k1', { ...log, customerId: 'cus_nobody' }).catch((e: unknown) => e),
      );
      assert.deepEqual([err.kind, err.retryable], ['bad_input', false]);
    });
  });

  describe('billing and payments', () => {
    it('a declined payment is the provider answer: thrown as is, no other billing asked', async () => {
      const a = new FakeBilling(new FakeCrmStore(DEMO_CUSTOMERS));
      const b = new FakeBilling(new FakeCrmStore(DEMO_CUSTOMERS));
      const billing = new FallbackBilling([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]);
      await assert.rejects(billing.payInvoice('k', 'inv_ada_1', 1), PaymentDeclinedError);
      assert.equal(b.failures.calls, 0);
    });

    it('no reserve, commit or release is sent to a second billing after a failure', async () => {
      const a = new FakeBilling(new FakeCrmStore(DEMO_CUSTOMERS));
      const b = new FakeBilling(new FakeCrmStore(DEMO_CUSTOMERS));
      a.failures.failWith('unavailable');
      const billing = new FallbackBilling([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]);
      const req = { paymentKey: 'p', invoiceId: 'inv_ada_1', amountCents: 4250, holdMs: 1000 };
      await assert.rejects(billing.reserve('r', req), FallbackExhaustedError);
      await assert.rejects(billing.payInvoice('p', 'inv_ada_1', 4250), FallbackExhaustedError);
      await assert.rejects(billing.release('r', req), FallbackExhaustedError);
      await assert.rejects(billing.attachCharge('r', 'ch'), FallbackExhaustedError);
      assert.equal(b.failures.calls, 0);
    });

    it('a charge, its refund and its look-up stay with the first healthy processor', async () => {
      const a = new FakePaymentGateway();
      const b = new FakePaymentGateway();
      const links = [
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ];
      const charge = {
        customerId: 'c',
        amountCents: 100,
        currency: 'usd' as const,
        description: 'x',
        metadata: {},
      };
      a.failures.failWith('timeout');
      const gw = new FallbackPaymentGateway(links);
      await assert.rejects(gw.charge('k', charge), FallbackExhaustedError);
      await assert.rejects(gw.findCharge('k'), FallbackExhaustedError);
      await assert.rejects(gw.refund('r', 'k'), FallbackExhaustedError);
      assert.equal(b.failures.calls, 0);
      // The first processor gated: the second takes new charges.
      const gated = new FallbackPaymentGateway(links, gate('a'));
      assert.equal((await gated.charge('k2', charge)).created, true);
      assert.equal(b.charges.size, 1);
    });

    it('a declined card passes as it is', async () => {
      const gw = new FallbackPaymentGateway([{ provider: 'a', port: new FakePaymentGateway() }]);
      const bad = {
        customerId: 'c',
        amountCents: 0,
        currency: 'usd' as const,
        description: 'x',
        metadata: {},
      };
      await assert.rejects(gw.charge('k', bad), CardDeclinedError);
    });
  });

  describe('object store, events, warehouse, vectors', () => {
    it('object store: a get falls through; a put does not', async () => {
      const a = new FakeObjectStore();
      const b = new FakeObjectStore();
      await b.put('k', Buffer.from('from b'));
      a.failures.failWith('unavailable');
      const store = new FallbackObjectStore([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]);
      assert.equal((await store.get('k'))?.toString(), 'from b');
      await assert.rejects(store.put('k2', Buffer.from('x')), FallbackExhaustedError);
      await assert.rejects(store.delete('k'), FallbackExhaustedError);
      assert.equal(b.objects.has('k2'), false);
      assert.equal(b.objects.has('k'), true);
    });

    it('events: a failed publish is not repeated on another bus; an invalid event passes as is', async () => {
      const a = new FakeEventBus();
      const b = new FakeEventBus();
      const bus = new FallbackEventBus([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]);
      const drafts = callEvents('CA-fallback').slice(0, 2);
      a.failures.failWith('unavailable', 1);
      await assert.rejects(bus.publish(drafts), FallbackExhaustedError);
      assert.equal(b.failures.calls, 0);
      assert.equal((await bus.publish(drafts)).length, 2, 'the retry goes to the same bus');
      await assert.rejects(
        bus.publish([{ ...drafts[0]!, call_id: '' }]),
        (e) => e instanceof EventValidationError,
      );
      await bus.close();
    });

    it('events: subscriptions open on the first healthy bus', async () => {
      const a = new FakeEventBus();
      const b = new FakeEventBus();
      const bus = new FallbackEventBus(
        [
          { provider: 'a', port: a },
          { provider: 'b', port: b },
        ],
        gate('a'),
      );
      const sub = await bus.subscribeBatches({
        groupId: 'g',
        types: ['call.ended'],
        handleBatch: async () => undefined,
      });
      assert.deepEqual([a.failures.calls, b.failures.calls], [0, 1]);
      await sub.close();
      await bus.close();
    });

    it('warehouse: a load goes to one warehouse; a count falls through', async () => {
      const a = new FakeWarehouse();
      const b = new FakeWarehouse();
      const wh = new FallbackWarehouse([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]);
      assert.equal(wh.name, 'a,b');
      a.failures.failWith('unavailable');
      await assert.rejects(wh.load([]), FallbackExhaustedError);
      assert.equal(b.failures.calls, 0);
      assert.equal(await wh.count(), 0);
      assert.equal(b.failures.calls, 1);
    });

    it('vectors: a search falls through; an upsert does not', async () => {
      const a = new FakeVectorIndex();
      const b = new FakeVectorIndex();
      await b.ensureCollection(2);
      const chunk = { id: 'd#0', docId: 'd', title: 't', topic: 'billing' as const, text: 'x' };
      await b.upsert([{ chunk, vector: Float32Array.from([1, 0]) }]);
      a.failures.failWith('rate_limited');
      const index = new FallbackVectorIndex([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]);
      assert.deepEqual(
        (await index.search(Float32Array.from([1, 0]), { topK: 1 })).map((h) => h.id),
        ['d#0'],
      );
      await assert.rejects(index.upsert([{ chunk, vector: Float32Array.from([0, 1]) }]));
      assert.equal(b.failures.calls, 3, 'b: ensureCollection, upsert, the search only');
    });
  });

  describe('embeddings and intent', () => {
    it('an embedder chain falls through and refuses links of different sizes', async () => {
      const a = new FakeEmbedder(8);
      const b = new FakeEmbedder(8);
      a.failures.failWith('unavailable');
      const chain = new FallbackEmbedder([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]);
      assert.deepEqual(await chain.embed(['hi']), await b.embed(['hi']));
      assert.throws(
        () =>
          new FallbackEmbedder([
            { provider: 'a', port: a },
            { provider: 'c', port: new FakeEmbedder(4) },
          ]),
        /one vector size/,
      );
    });

    it('an intent chain falls through; a timed-out classifier is left behind', async () => {
      const slow = new FakeIntentClassifier({ hi: { name: 'check_balance', confidence: 1 } });
      const rules = new FakeIntentClassifier({ hi: { name: 'check_balance', confidence: 0.9 } });
      slow.failures.delay(200);
      const chain = new FallbackIntentClassifier([
        { provider: 'slow', port: slow, timeoutMs: 20 },
        { provider: 'rules', port: rules },
      ]);
      assert.deepEqual(await chain.classify('hi'), { name: 'check_balance', confidence: 0.9 });
    });
  });

  describe('the runner options they rest on', () => {
    const failing = (kind: ProviderError['kind']) => {
      let calls = 0;
      return {
        get calls() {
          return calls;
        },
        async ask(): Promise<string> {
          calls++;
          throw new ProviderError('x', kind, kind);
        },
      };
    };

    it('firstOnly: retries the first provider asked, never the next', async () => {
      const a = failing('unavailable');
      const b = failing('unavailable');
      const runner = new FallbackRunner('test', [
        { provider: 'a', port: a, tries: 3 },
        { provider: 'b', port: b },
      ]);
      const err = exhausted(await runner.run((p) => p.ask(), { firstOnly: true }).catch((e) => e));
      assert.deepEqual([a.calls, b.calls, err.attempts.length], [3, 0, 3]);
    });

    it('a non-retryable failure stops the tries of that provider', async () => {
      const a = failing('bad_input');
      const runner = new FallbackRunner('test', [{ provider: 'a', port: a, tries: 3 }]);
      const err = exhausted(await runner.run((p) => p.ask()).catch((e) => e));
      assert.deepEqual([a.calls, err.kind, err.retryable], [1, 'bad_input', false]);
    });

    it('isAnswer: the error is rethrown as is and the provider recorded as serving', async () => {
      const seen: boolean[] = [];
      const runner = new FallbackRunner('test', [
        { provider: 'a', port: 1 },
        { provider: 'b', port: 2 },
      ]);
      const declined = new PaymentDeclinedError('no');
      await assert.rejects(
        runner.run(
          async () => {
            throw declined;
          },
          { isAnswer: (e) => e === declined, onAttempt: (a) => seen.push(a.ok) },
        ),
        (e) => e === declined,
      );
      assert.deepEqual(seen, [true]);
    });

    it('an abort is rethrown as its reason, and no further provider is asked', async () => {
      const ac = new AbortController();
      const b = failing('unavailable');
      const runner = new FallbackRunner<{ ask(): Promise<string> }>('test', [
        {
          provider: 'a',
          port: {
            ask: async () => {
              ac.abort(new Error('hung up'));
              throw new Error('cut off');
            },
          },
        },
        { provider: 'b', port: b },
      ]);
      await assert.rejects(
        runner.run((p) => p.ask(), { signal: ac.signal }),
        /hung up/,
      );
      assert.equal(b.calls, 0);
    });
  });
});
