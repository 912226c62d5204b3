// One conformance suite for the Alerting port, run against every adapter: PagerDuty Events
// v2 and Alertmanager API v2 (each against its local stand-in replaying the vendor's wire
// protocol), the fake, and the fallback adapter (on fakes, and on both vendors). Then what
// each vendor adapter puts on the wire, and how the fallback behaves when a link is down.
import assert from 'node:assert/strict';
import { AlertmanagerAlerting } from '../../providers/alerts/alertmanager';
import { alertingFromEnv } from '../../providers/alerts/config';
import { FakeAlerting } from '../../providers/alerts/fake';
import { FallbackAlerting } from '../../providers/alerts/fallback';
import { PagerDutyAlerting } from '../../providers/alerts/pagerduty';
import type { Alerting, Incident } from '../../providers/alerts/port';
import { ProviderError } from '../../providers/provider-error';
import { AlertmanagerStandIn, PagerDutyStandIn } from '../helpers/alert-vendors';

const incident = (over: Partial<Incident> = {}): Incident => ({
  dedupKey: 'switchboard/provider/tts:polly',
  summary: 'tts:polly unhealthy for 75 s (5 failures in a row)',
  source: 'tts:polly',
  severity: 'critical',
  startedAt: '2026-12-05T01:00:00.000Z',
  details: { provider: 'tts:polly', reason: '5 failures in a row', fallbacks_in_window: 12 },
  ...over,
});

/** An adapter, what is open at the far end, and how to make the far end fail. */
interface Subject {
  alerting: Alerting;
  open(): string[];
  fail(how: 'down' | 'throttled' | undefined): void;
}

const pagerDuty = new PagerDutyStandIn();
const alertmanager = new AlertmanagerStandIn();
const env = (): NodeJS.ProcessEnv => ({ PAGERDUTY_ROUTING_KEY: pagerDuty.routingKey });
const vendorOutage =
  (s: PagerDutyStandIn | AlertmanagerStandIn) => (how: 'down' | 'throttled' | undefined) => {
    s.outage = how === 'down' ? { status: 503 } : how === 'throttled' ? { status: 429 } : undefined;
  };
const fakeSubject = (f: FakeAlerting): Subject => ({
  alerting: f,
  open: () => f.openIncidents().map((i) => i.dedupKey),
  fail: (how) =>
    how ? f.failures.failWith(how === 'down' ? 'unavailable' : 'rate_limited') : f.failures.clear(),
});

const subjects: Record<string, () => Subject> = {
  pagerduty: () => ({
    alerting: new PagerDutyAlerting(pagerDuty.url, env()),
    open: () => pagerDuty.openIncidents(),
    fail: vendorOutage(pagerDuty),
  }),
  alertmanager: () => ({
    alerting: new AlertmanagerAlerting(alertmanager.url),
    open: () => alertmanager.openIncidents(),
    fail: vendorOutage(alertmanager),
  }),
  fake: () => fakeSubject(new FakeAlerting()),
  'fallback (fakes)': () => {
    const [a, b] = [new FakeAlerting('a'), new FakeAlerting('b')];
    const s = fakeSubject(b);
    return {
      alerting: new FallbackAlerting([
        { provider: 'a', port: a },
        { provider: 'b', port: b },
      ]),
      open: () => [...new Set([...a.openIncidents(), ...b.openIncidents()].map((i) => i.dedupKey))],
      fail: (how) => {
        fakeSubject(a).fail(how);
        s.fail(how);
      },
    };
  },
  'fallback (pagerduty, alertmanager) from env': () => ({
    alerting: alertingFromEnv(() => undefined, undefined, {
      ...env(),
      ALERTS_CHAIN: 'pagerduty,alertmanager',
      PAGERDUTY_EVENTS_URL: pagerDuty.url,
      ALERTMANAGER_URL: alertmanager.url,
    }),
    open: () => [...new Set([...pagerDuty.openIncidents(), ...alertmanager.openIncidents()])],
    fail: (how) => {
      vendorOutage(pagerDuty)(how);
      vendorOutage(alertmanager)(how);
    },
  }),
};

describe('Alerting conformance', function () {
  before(async () => {
    await pagerDuty.start();
    await alertmanager.start();
  });
  after(async () => {
    await pagerDuty.stop();
    await alertmanager.stop();
  });

  for (const [name, make] of Object.entries(subjects)) {
    describe(name, () => {
      let s: Subject;
      const key = `switchboard/provider/${name.replace(/\W+/g, '-')}`;
      beforeEach(() => {
        s = make();
        s.fail(undefined);
      });
      afterEach(() => s.fail(undefined));

      it('a trigger opens the incident; a second trigger with its key keeps it one', async () => {
        await s.alerting.trigger(incident({ dedupKey: key }));
        await s.alerting.trigger(incident({ dedupKey: key, summary: 'still down' }));
        assert.deepEqual(
          s.open().filter((k) => k === key),
          [key],
        );
      });

      it('a resolve closes it; resolving a key never triggered is harmless', async () => {
        await s.alerting.trigger(incident({ dedupKey: `${key}-r` }));
        await s.alerting.resolve(`${key}-r`);
        assert.ok(!s.open().includes(`${key}-r`));
        await s.alerting.resolve(`${key}-never`);
      });

      it('the far end down: a retryable ProviderError (unavailable), nothing opened', async () => {
        s.fail('down');
        await assert.rejects(s.alerting.trigger(incident({ dedupKey: `${key}-d` })), (err) => {
          assert.ok(err instanceof ProviderError);
          assert.equal(err.kind, 'unavailable');
          assert.equal(err.retryable, true);
          return true;
        });
        s.fail(undefined);
        assert.ok(!s.open().includes(`${key}-d`));
      });

      it('throttled: a retryable ProviderError', async () => {
        s.fail('throttled');
        await assert.rejects(s.alerting.trigger(incident({ dedupKey: `${key}-t` })), (err) => {
          assert.ok(err instanceof ProviderError);
          assert.equal(err.retryable, true);
          return true;
        });
      });
    });
  }

  describe('on the wire', () => {
    it('PagerDuty: Events v2 trigger and resolve with the routing key and dedup key', async () => {
      const from = pagerDuty.requests.length;
      const pd = new PagerDutyAlerting(pagerDuty.url, env());
      await pd.trigger(incident());
      await pd.resolve(incident().dedupKey);
      const [trigger, resolve] = pagerDuty.requests.slice(from);
      assert.equal(trigger!.path, '/v2/enqueue');
      assert.deepEqual(trigger!.body, {
        routing_key: pagerDuty.routingKey,
        event_action: 'trigger',
        dedup_key: 'switchboard/provider/tts:polly',
        payload: {
          summary: 'tts:polly unhealthy for 75 s (5 failures in a row)',
          source: 'tts:polly',
          severity: 'critical',
          timestamp: '2026-12-05T01:00:00.000Z',
          component: 'tts:polly',
          group: 'switchboard',
          class: 'provider-health',
          custom_details: {
            provider: 'tts:polly',
            reason: '5 failures in a row',
            fallbacks_in_window: 12,
          },
        },
      });
      assert.deepEqual(resolve!.body, {
        routing_key: pagerDuty.routingKey,
        event_action: 'resolve',
        dedup_key: 'switchboard/provider/tts:polly',
      });
    });

    it('PagerDuty: an invalid event is final (bad_input) with PagerDuty’s own errors', async () => {
      const pd = new PagerDutyAlerting(pagerDuty.url, env());
      await assert.rejects(
        pd.trigger(incident({ severity: 'urgent' as Incident['severity'] })),
        (err) => {
          assert.ok(err instanceof ProviderError);
          assert.equal(err.kind, 'bad_input');
          assert.equal(err.retryable, false);
          assert.match(err.message, /Event object is invalid; 'payload.severity' is invalid/);
          return true;
        },
      );
    });

    it('PagerDuty: no routing key in the environment, no adapter (a skipped link in the chain)', async () => {
      assert.throws(() => new PagerDutyAlerting(pagerDuty.url, {}), /PAGERDUTY_ROUTING_KEY/);
      const lines: string[] = [];
      const chain = alertingFromEnv((l) => lines.push(l), undefined, {
        ALERTS_CHAIN: 'pagerduty,log',
      });
      await chain.trigger(incident());
      assert.match(lines[0] ?? '', /^INCIDENT switchboard\/provider\/tts:polly \[critical\]/);
    });

    it('Alertmanager: one postable alert, labels = name + dedup key, endsAt resolves it', async () => {
      const from = alertmanager.requests.length;
      const am = new AlertmanagerAlerting(alertmanager.url, () =>
        Date.parse('2026-12-05T01:05:00Z'),
      );
      await am.trigger(incident());
      await am.resolve(incident().dedupKey);
      const [trigger, resolve] = alertmanager.requests.slice(from);
      assert.equal(trigger!.path, '/api/v2/alerts');
      assert.deepEqual(trigger!.body, [
        {
          labels: {
            alertname: 'SwitchboardProviderIncident',
            dedup_key: 'switchboard/provider/tts:polly',
          },
          annotations: {
            summary: 'tts:polly unhealthy for 75 s (5 failures in a row)',
            source: 'tts:polly',
            severity: 'critical',
            provider: 'tts:polly',
            reason: '5 failures in a row',
            fallbacks_in_window: '12',
          },
          startsAt: '2026-12-05T01:00:00.000Z',
        },
      ]);
      assert.deepEqual(resolve!.body, [
        {
          labels: {
            alertname: 'SwitchboardProviderIncident',
            dedup_key: 'switchboard/provider/tts:polly',
          },
          endsAt: '2026-12-05T01:05:00.000Z',
        },
      ]);
    });

    it('the fallback: PagerDuty down → the trigger reaches Alertmanager; the resolve goes to both', async () => {
      const chain = alertingFromEnv(() => undefined, undefined, {
        ...env(),
        ALERTS_CHAIN: 'pagerduty,alertmanager',
        PAGERDUTY_EVENTS_URL: pagerDuty.url,
        ALERTMANAGER_URL: alertmanager.url,
      });
      const key = 'switchboard/provider/crm:postgres';
      pagerDuty.outage = { status: 502 };
      try {
        await chain.trigger(incident({ dedupKey: key }));
        assert.ok(alertmanager.openIncidents().includes(key));
        assert.ok(!pagerDuty.openIncidents().includes(key));
        await chain.resolve(key); // PagerDuty still down: Alertmanager took it
        assert.ok(!alertmanager.openIncidents().includes(key));
      } finally {
        pagerDuty.outage = undefined;
      }
    });
  });
});
