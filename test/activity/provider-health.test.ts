// Provider health shared by the fleet, on real Redis: two ProviderHealth instances stand for
// two processes. A breaker opened by one is seen by the other within a second; half-open
// lets exactly one probe through across both; recovery closes it for both. With Redis gone
// each keeps its own view, and the fleet's state is written again when it returns. And end to
// end: a TTS chain stops asking a failing primary once its breaker opens, and uses it again
// after the cool-down when it has recovered.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import type { ProviderAttempt } from '../../contracts/providers';
import { redisCacheClient } from '../../providers/cache/redis';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '../../providers/health/policy';
import { ProviderHealth, sharedProviderHealth } from '../../providers/health/provider-health';
import { RedisHealthStore } from '../../providers/health/redis-store';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { FallbackTextToSpeech } from '../../providers/tts/fallback';
import { infraUp, redisUrl, freePort } from '../../infra';
import { failedAttempt } from '../../testing/degraded';

const RUN = `health-test-${process.pid}-${Date.now().toString(36)}`;
const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, openMs: 1_500, probeMs: 1_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failed = (provider: string) => failedAttempt(provider);
const served = (provider: string): ProviderAttempt => ({ provider, ok: true, ms: 3 });

/** Polls until `check` holds; the ms it took. */
async function within(ms: number, what: string, check: () => boolean): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
  return Date.now() - started;
}

/** A Redis of the test's own, to stop and start again (nothing persisted). */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const client = redisCacheClient(`redis://127.0.0.1:${port}`);
  client.on('error', () => undefined);
  try {
    await within(5_000, 'redis-server answers', () => client.status === 'ready');
  } finally {
    client.disconnect();
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('provider health shared through Redis', function () {
  const open: ProviderHealth[] = [];
  const health = (url = redisUrl(), log?: (line: string) => void) => {
    const h = sharedProviderHealth(url, { policy, refreshMs: 100, ...(log && { log }) });
    open.push(h);
    return h;
  };
  let redis: Redis;

  before(async () => {
    await infraUp({ quiet: true });
    redis = redisCacheClient(redisUrl());
  });

  after(async () => {
    await Promise.all(open.map((h) => h.close()));
    const keys = await redis.keys(`switchboard:health:*${RUN}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('failures recorded in one process open the breaker the other sees within a second', async () => {
    const [a, b] = [health(), health()];
    const p = `${RUN}:open`;
    assert.equal(b.skipReason(p), undefined);
    for (let i = 0; i < 4; i++) a.record(failed(p));
    await a.sync();
    await b.sync();
    assert.equal(b.skipReason(p), undefined, 'four failures do not open it');
    const t0 = Date.now();
    a.record(failed(p));
    assert.match(a.skipReason(p) ?? '', /^unhealthy since .* \(5 failures in a row\)$/);
    await within(1_000, 'b sees it open', () => b.skipReason(p) !== undefined);
    assert.ok(Date.now() - t0 < 1_000);
    assert.match(b.skipReason(p) ?? '', /^unhealthy since \d\d:\d\d:\d\d \(5 failures in a row\)$/);
    const stored = (await new RedisHealthStore(redis).read([p])).get(p)!.state!;
    assert.equal(stored.state, 'open');
    assert.equal(stored.lastError, 'unavailable: connection refused');
  });

  it('half-open lets exactly one probe through across both; its success closes it for both', async () => {
    const [a, b] = [health(), health()];
    const p = `${RUN}:probe`;
    for (let i = 0; i < 5; i++) a.record(failed(p));
    await within(1_000, 'b sees it open', () => b.skipReason(p) !== undefined);
    await sleep(policy.openMs);
    // Both processes keep asking through the half-open period: one request goes.
    const granted: ProviderHealth[] = [];
    const until = Date.now() + policy.probeMs - 200;
    while (Date.now() < until) {
      for (const h of [a, b]) if (h.skipReason(p) === undefined) granted.push(h);
      await sleep(5);
    }
    assert.equal(granted.length, 1, `probes let through: ${granted.length}`);
    const [prober] = granted;
    const other = prober === a ? b : a;
    assert.match(other.skipReason(p) ?? '', /another request is probing/);
    prober!.record(served(p));
    assert.equal(prober!.skipReason(p), undefined);
    await within(1_000, 'the other sees it closed', () => other.skipReason(p) === undefined);
    assert.equal(other.state(p).view, 'closed');
  });

  it('a failed probe opens it again for both, for another cool-down', async () => {
    const [a, b] = [health(), health()];
    const p = `${RUN}:reopen`;
    for (let i = 0; i < 5; i++) b.record(failed(p));
    await within(1_000, 'a sees it open', () => a.skipReason(p) !== undefined);
    const firstUntil = a.state(p).state.until!;
    await sleep(policy.openMs);
    let prober: ProviderHealth | undefined;
    await within(1_500, 'one probe goes', () => {
      prober = [a, b].find((h) => h.skipReason(p) === undefined);
      return prober !== undefined;
    });
    prober!.record(failed(p));
    const other = prober === a ? b : a;
    await within(1_000, 'the other sees the new cool-down', () => {
      const s = other.state(p);
      return s.view === 'open' && s.state.until! > firstUntil;
    });
    assert.match(other.skipReason(p) ?? '', /^unhealthy since/);
  });

  it('with Redis gone each keeps its own view (said once), and the fleet’s state is written when it returns', async () => {
    const port = await freePort();
    let server = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const lines: string[] = [];
    const a = health(url, (line) => lines.push(line));
    const p = 'tts:away';
    a.record(served(p));
    await a.sync();
    assert.equal(a.redisAway, false);

    await stopRedis(server);
    try {
      await a.sync();
      await a.sync();
      assert.equal(a.redisAway, true);
      for (let i = 0; i < 5; i++) a.record(failed(p));
      assert.match(a.skipReason(p) ?? '', /^unhealthy since/, 'the local view opens it');
      await a.sync();
      const said = lines.filter((l) => /Redis unavailable/.test(l));
      assert.equal(said.length, 1, `said once: ${lines.join(' | ')}`);
      // The process probes on its own when the cool-down ends.
      await sleep(policy.openMs);
      assert.equal(a.skipReason(p), undefined, 'a local probe');
      assert.match(a.skipReason(p) ?? '', /another request is probing/);
      a.record(failed(p));
      assert.equal(a.state(p).view, 'open');
    } finally {
      server = await startRedis(port);
    }
    try {
      await within(3_000, 'back', () => !a.redisAway);
      assert.ok(lines.some((l) => /Redis is back/.test(l)));
      // The restarted Redis kept nothing: what it holds now came from this process.
      const b = health(url);
      await within(1_000, 'a fresh process sees it open', () => b.skipReason(p) !== undefined);
      assert.match(b.skipReason(p) ?? '', /^unhealthy since/);
    } finally {
      await stopRedis(server);
    }
  });

  it('end to end: a TTS chain stops asking a failing primary, and uses it again once recovered', async () => {
    const gate = health().forFamily(`tts-${RUN}`);
    const primary = new FakeTextToSpeech({ name: 'primary', fail: 'unavailable' });
    const backup = new FakeTextToSpeech({ name: 'backup' });
    const chain = new FallbackTextToSpeech(
      [
        { provider: 'primary', port: primary },
        { provider: 'backup', port: backup },
      ],
      gate,
    );
    for (let i = 0; i < 5; i++) {
      const audio = await chain.synthesize(`hello ${i}`);
      assert.equal(audio.provider, 'backup');
    }
    assert.equal(primary.calls, 5);
    for (let i = 0; i < 5; i++) {
      const audio = await chain.synthesize(`while open ${i}`);
      assert.equal(audio.provider, 'backup');
      assert.equal(audio.attempts?.[0]?.kind, 'skipped');
      assert.match(
        audio.attempts?.[0]?.reason ?? '',
        /^unhealthy since \d\d:\d\d:\d\d \(5 failures/,
      );
    }
    assert.equal(primary.calls, 5, 'an open primary is not asked');

    primary.fail = undefined;
    await sleep(policy.openMs);
    // Asked until the probe goes through (the right to probe is claimed in the background).
    const started = Date.now();
    let last = await chain.synthesize('after');
    while (last.provider !== 'primary' && Date.now() - started < 2_000) {
      await sleep(20);
      last = await chain.synthesize('after');
    }
    assert.equal(last.provider, 'primary', 'the probe was served by the recovered primary');
    assert.equal(primary.calls, 6, 'exactly one probe');
    const next = await chain.synthesize('closed again');
    assert.equal(next.provider, 'primary');
    assert.deepEqual(
      next.attempts?.map((a) => `${a.provider}:${a.ok}`),
      ['primary:true'],
    );
  });
});
