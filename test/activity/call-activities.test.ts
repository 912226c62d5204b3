// The call activities over the fakes, each in a one-link chain as the worker composes them:
// what a turn's one local activity returns, and the failures the workflow sees.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createCallActivities } from '../../activities/call-activities';
import { RulesIntentClassifier } from '../../providers/intent/rules';
import { FakeBilling } from '../../providers/billing/fake';
import { FakePaymentGateway } from '../../providers/payments/fake';
import { FallbackBilling } from '../../providers/billing/fallback';
import { FakeCrmClient, FakeCrmStore } from '../../providers/crm/fake';
import type { Balance } from '../../providers/crm/port';
import { FallbackCrmClient } from '../../providers/crm/fallback';
import type { ProviderAttempt } from '../../contracts/providers';
import { DEMO_CUSTOMERS } from '../../providers/postgres/schema';

function activities(
  overrides: {
    crmDown?: boolean;
    balance?: (read: () => Promise<Balance>) => Promise<Balance>;
  } = {},
) {
  const store = new FakeCrmStore(DEMO_CUSTOMERS);
  const crm = new FakeCrmClient(store);
  if (overrides.crmDown) crm.failures.failWith('unavailable');
  const { balance } = overrides;
  if (balance) {
    const read = crm.getBalance.bind(crm);
    crm.getBalance = (id) => balance(() => read(id));
  }
  return createCallActivities({
    crm: new FallbackCrmClient([{ provider: 'crm', port: crm }]),
    billing: new FallbackBilling([{ provider: 'billing', port: new FakeBilling(store) }]),
    intent: new RulesIntentClassifier(),
    payments: { billing: new FakeBilling(store), gateway: new FakePaymentGateway() },
  });
}

describe('call activities', () => {
  it('identifyCaller reads the account with the caller, for the edge to synthesize ahead', async () => {
    assert.deepEqual(await activities().identifyCaller('+15550100001'), {
      id: 'cus_ada',
      name: 'Ada',
      account: {
        balanceCents: 4250,
        openInvoice: { invoiceId: 'inv_ada_1', amountCents: 4250, dueDate: '2026-12-05' },
      },
    });
    assert.equal(await activities().identifyCaller('+15559999999'), undefined);
  });

  it('identifyCaller does not hold the greeting for an account read that fails or lags', async () => {
    const failing = activities({ balance: () => Promise.reject(new Error('billing away')) });
    assert.deepEqual(await failing.identifyCaller('+15550100001'), { id: 'cus_ada', name: 'Ada' });
    let read = false;
    const lagging = activities({
      balance: async (next) => {
        await new Promise((r) => setTimeout(r, 2_000));
        read = true;
        return next();
      },
    });
    assert.deepEqual(await lagging.identifyCaller('+15550100001'), { id: 'cus_ada', name: 'Ada' });
    assert.equal(read, false, 'answered before the read came back');
  });

  it('understandTurn reads the account along with an account intent', async () => {
    const r = await activities().understandTurn({
      text: "what's my balance",
      customerId: 'cus_ada',
    });
    assert.equal(r.intent.name, 'check_balance');
    assert.deepEqual(r.account, {
      balanceCents: 4250,
      openInvoice: { invoiceId: 'inv_ada_1', amountCents: 4250, dueDate: '2026-12-05' },
    });
  });

  it('understandTurn reads no account for other intents or unknown callers', async () => {
    const acts = activities();
    assert.equal(
      (await acts.understandTurn({ text: 'goodbye', customerId: 'cus_ada' })).account,
      undefined,
    );
    const anon = await acts.understandTurn({ text: 'pay my bill' });
    assert.equal(anon.intent.name, 'pay_bill');
    assert.equal(anon.account, undefined);
  });

  it('understandTurn still classifies when the CRM is down (the flow reports the lookup)', async () => {
    const r = await activities({ crmDown: true }).understandTurn({
      text: 'pay my bill',
      customerId: 'cus_ada',
    });
    assert.equal(r.intent.name, 'pay_bill');
    assert.equal(r.account, undefined);
  });

  it('refuses an over-long utterance as bad input, without retries', async () => {
    await assert.rejects(
      activities().understandTurn({ text: 'a'.repeat(2001) }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'BadInput');
        assert.equal(err.nonRetryable, true);
        return true;
      },
    );
  });

  it('a CRM that is down is a retryable ProviderUnavailable carrying the attempts', async () => {
    await assert.rejects(activities({ crmDown: true }).getBalance('cus_ada'), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'ProviderUnavailable');
      assert.equal(err.nonRetryable, false);
      const [attempts] = err.details as [ProviderAttempt[]];
      assert.deepEqual(
        attempts.map((a) => [a.provider, a.kind]),
        [['crm', 'unavailable']],
      );
      return true;
    });
  });

  it('a call log the CRM refuses for good is a non-retryable BadInput, not retried forever', async () => {
    const log = {
      callSid: 'CA1',
      customerId: 'cus_nobody',
      callerNumber: '+15550100001',
      intentPath: [],
      disposition: 'resolved',
      turns: 1,
      durationMs: 1,
    };
    await assert.rejects(
      activities().writeCallLog({ idempotencyKey: 'k1', log }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'BadInput');
        assert.equal(err.nonRetryable, true);
        return true;
      },
    );
  });

  it('maps a declined payment to a non-retryable PaymentDeclined failure', async () => {
    const acts = activities();
    const req = { idempotencyKey: 'k1', invoiceId: 'inv_alan_1', amountCents: 3000 };
    await assert.rejects(acts.payInvoice(req), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'PaymentDeclined');
      assert.equal(err.nonRetryable, true);
      return true;
    });
  });
});
