// The edge's TTS outage check on provider health's own breakers (QUICK_BREAKER, a clock the
// test moves): out only when every synthesizer's breaker has been open long enough; a
// half-open one is probed before the answer.
import assert from 'node:assert/strict';
import { TtsOutageWatch } from '../../media-edge/call/tts-outage';
import { ProviderHealth } from '../../providers/health/provider-health';
import { ProviderError } from '../../providers/provider-error';
import type { TextToSpeech } from '../../providers/tts/port';
import { failedAttempt, QUICK_BREAKER } from '../../testing/degraded';

const LINKS = [
  { provider: 'polly', port: {} },
  { provider: 'google', skipReason: 'no credentials' },
  { provider: 'local', port: {} },
  { provider: 'prerecorded', port: {} },
  { provider: 'pieces', port: {} },
];

describe('TTS outage watch (media-edge)', () => {
  let now = 1_000_000;
  let health: ProviderHealth;
  let probes: string[];
  let pollyServes: boolean;
  const chain: TextToSpeech = {
    name: 'chain',
    voice: 'test',
    async synthesize(text) {
      probes.push(text);
      const ok = pollyServes && health.forFamily('tts').skipReason('polly') === undefined;
      health.forFamily('tts').record?.({ provider: 'polly', ok, ms: 5, ...(!ok && { kind: 'unavailable' }) }); // prettier-ignore
      if (!ok) throw new ProviderError('tts', 'unavailable', 'every link failed');
      return { mulaw: Buffer.alloc(8), durationMs: 1, provider: 'polly', voice: 'test' };
    },
  };
  const watch = () =>
    new TtsOutageWatch({ links: LINKS, breaker: (p) => health.state(`tts:${p}`), chain, afterMs: 500, now: () => now }); // prettier-ignore
  const fail = (p: string) => {
    for (let i = 0; i < 2; i++) health.forFamily('tts').record?.(failedAttempt(p));
  };

  beforeEach(() => {
    health = new ProviderHealth({ policy: QUICK_BREAKER, now: () => now });
    probes = [];
    pollyServes = false;
  });

  it('one synthesizer still closed: no outage', async () => {
    fail('polly');
    now += 600;
    assert.equal(await watch().outage(), false);
  });

  it('every synthesizer open, but not yet for afterMs: no outage; then an outage', async () => {
    fail('polly');
    fail('local');
    now += 100;
    assert.equal(await watch().outage(), false);
    now += 500;
    assert.equal(await watch().outage(), true);
    assert.deepEqual(probes, [], 'nothing half-open, nothing probed');
  });

  it('half-open: probed first; a failed probe keeps the outage, a served one ends it', async () => {
    fail('polly');
    fail('local');
    now += QUICK_BREAKER.openMs + 10;
    assert.equal(await watch().outage(), true);
    assert.equal(probes.length, 1);
    now += QUICK_BREAKER.openMs + 10;
    pollyServes = true;
    assert.equal(await watch().outage(), false);
    assert.equal(health.state('tts:polly').state.state, 'closed');
  });

  it('fixed audio only: never an outage', async () => {
    const w = new TtsOutageWatch({ links: LINKS.slice(3), breaker: (p) => health.state(`tts:${p}`), chain, afterMs: 0 }); // prettier-ignore
    assert.equal(await w.outage(), false);
  });
});
