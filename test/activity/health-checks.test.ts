// Active health checks against real faults: the OpenAI and Deepgram stand-ins (their
// documented wire protocols), a real Redis and the real PostgreSQL, each behind Toxiproxy. With no caller request
// at all, a black hole opens the breaker by 3 timeouts and refused connections by failures in
// a row; once the fault is lifted the check is the half-open probe and closes it. Two checkers
// sharing Redis (two processes) send one check per provider per interval between them.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { databaseUrl, infraUp, freePort } from '../../infra';
import { createPostgresPool, DEFAULT_PG_BOUNDS } from '../../infra/postgres-pool';
import { FallbackBilling } from '../../providers/billing/fallback';
import { PostgresBilling } from '../../providers/billing/postgres';
import { redisCacheClient, RedisCache } from '../../providers/cache/redis';
import { FallbackCrmClient } from '../../providers/crm/fallback';
import { PostgresCrm } from '../../providers/crm/postgres';
import { FallbackCache } from '../../providers/cache/fallback';
import { HealthChecker } from '../../providers/health/health-checker';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '../../providers/health/policy';
import { ProviderHealth, sharedProviderHealth } from '../../providers/health/provider-health';
import { languageModelFromEnv } from '../../providers/llm/config';
import { DeepgramSpeechToText } from '../../providers/stt/deepgram';
import { FallbackSpeechToText } from '../../providers/stt/fallback';
import { DeepgramReplayServer } from '../../testing/deepgram-replay';
import {
  type FaultProxies,
  type FaultProxy,
  hostPort,
  startFaultProxy,
  throughProxy,
} from '../../testing/faults';
import { OpenAiReplayServer } from '../../testing/openai-replay';

const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, openMs: 1_000, probeMs: 1_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ms: number, what: string, holds: () => boolean): Promise<void> {
  const started = Date.now();
  while (!holds()) {
    if (Date.now() - started > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

describe('active health checks (real faults, no caller requests)', function () {
  let faults: FaultProxies;
  let openai: OpenAiReplayServer;
  let openaiUrl: string;
  let redisServer: ChildProcess;
  let redisUrl: string;
  const closers: (() => Promise<void> | void)[] = [];

  before(async () => {
    faults = await startFaultProxy();
    openai = new OpenAiReplayServer();
    openaiUrl = await openai.start();
    const port = await freePort();
    redisServer = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    redisUrl = `redis://127.0.0.1:${port}`;
    const probe = redisCacheClient(redisUrl);
    probe.on('error', () => undefined);
    await until(5_000, 'redis-server answers', () => probe.status === 'ready');
    probe.disconnect();
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  after(async () => {
    await openai.close();
    redisServer.kill('SIGTERM');
  });

  /** The LLM chain of a process (openai behind `proxy`, then the template), its checker. */
  function llmProcess(
    proxy: FaultProxy,
    health: ProviderHealth,
    intervalMs = 200,
    timeoutMs = 300,
  ) {
    languageModelFromEnv(
      {
        LLM_CHAIN: 'openai,template',
        OPENAI_API_KEY: 'sk-test-health-0123456789',
        OPENAI_BASE_URL: throughProxy(openaiUrl, proxy),
      },
      () => undefined,
      health.forFamily('llm'),
    );
    const checker = new HealthChecker(health, { intervalMs, timeoutMs });
    closers.push(() => checker.close());
    return checker;
  }

  async function proxyFor(name: string, upstream: string): Promise<FaultProxy> {
    const proxy = await faults.proxy(name, upstream);
    closers.push(() => faults.remove(name));
    return proxy;
  }

  it('a black-holed LLM opens by 3 timeouts and closes after it returns, with no caller', async () => {
    const proxy = await proxyFor('hc-llm-blackhole', hostPort(openaiUrl));
    const health = new ProviderHealth({ policy });
    const checker = llmProcess(proxy, health).start();
    assert.deepEqual(
      health.checkable.map((w) => w.provider),
      ['llm:openai'],
    );
    await until(3_000, 'a check succeeded', () => openai.requestsTo('/v1/models') > 0);
    assert.equal(health.state('llm:openai').view, 'closed');

    await proxy.blackhole();
    await until(10_000, 'breaker open', () => health.state('llm:openai').state.state === 'open');
    assert.match(health.state('llm:openai').state.reason ?? '', /3 timeouts in a row/);
    assert.equal(openai.requestsTo('/v1/chat/completions'), 0, 'no caller asked the model');

    await proxy.clear();
    await until(
      10_000,
      'breaker closed',
      () => health.state('llm:openai').state.state === 'closed',
    );
    assert.equal(openai.requestsTo('/v1/chat/completions'), 0);
    await checker.close();
  });

  it('refused connections open the breaker by failures in a row, and it closes after', async () => {
    const deepgram = await DeepgramReplayServer.start();
    closers.push(() => deepgram.close());
    const proxy = await proxyFor('hc-deepgram-down', hostPort(deepgram.url));
    const health = new ProviderHealth({ policy });
    new FallbackSpeechToText(
      new DeepgramSpeechToText({
        apiKey: 'dg-test-key',
        baseUrl: throughProxy(deepgram.url, proxy),
      }),
      undefined,
      { gate: health.forFamily('stt') },
    );
    const checker = new HealthChecker(health, { intervalMs: 100, timeoutMs: 500 });
    closers.push(() => checker.close());
    checker.start();
    await until(3_000, 'a check reached Deepgram', () => deepgram.restRequests.length > 0);
    assert.deepEqual([...new Set(deepgram.restRequests)], ['/v1/projects']);
    assert.equal(health.state('stt:deepgram').view, 'closed');

    await proxy.down();
    await until(5_000, 'breaker open', () => health.state('stt:deepgram').state.state === 'open');
    assert.match(
      health.state('stt:deepgram').state.reason ?? '',
      new RegExp(`${policy.consecutiveFailures} failures in a row`),
    );
    await proxy.up();
    await until(
      5_000,
      'breaker closed',
      () => health.state('stt:deepgram').state.state === 'closed',
    );
    assert.equal(deepgram.connections.length, 0, 'no live stream was opened');
  });

  it('the cache Redis refused: PING checks open the breaker and close it once it is back', async () => {
    const proxy = await proxyFor('hc-redis-down', hostPort(redisUrl));
    const client = redisCacheClient(throughProxy(redisUrl, proxy));
    closers.push(() => client.disconnect());
    // The client's reconnection errors are the breaker's to report, not a log line each.
    const printed: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
    closers.push(() => {
      console.error = consoleError;
    });
    const health = new ProviderHealth({ policy });
    new FallbackCache(
      [{ provider: 'redis', port: new RedisCache(client) }],
      health.forFamily('cache'),
    );
    const checker = new HealthChecker(health, { intervalMs: 100, timeoutMs: 1_500 });
    closers.push(() => checker.close());
    await checker.tick();
    assert.equal(health.state('cache:redis').view, 'closed');

    checker.start();
    await proxy.down();
    await until(15_000, 'breaker open', () => health.state('cache:redis').state.state === 'open');
    await proxy.up();
    await until(
      15_000,
      'breaker closed',
      () => health.state('cache:redis').state.state === 'closed',
    );
    assert.deepEqual(
      printed.filter((l) => l.includes('[ioredis]')),
      [],
    );
  });

  it('a black-holed CRM/billing database: SELECT 1 checks time out, open both breakers, then close them', async () => {
    await infraUp({ quiet: true });
    const url = new URL(databaseUrl('switchboard_test'));
    const proxy = await proxyFor('hc-postgres-blackhole', `${url.hostname}:${url.port}`);
    const pool = createPostgresPool(throughProxy(url.toString(), proxy), {
      bounds: { ...DEFAULT_PG_BOUNDS, connectTimeoutMs: 2_000, queryTimeoutMs: 2_000 },
    });
    closers.push(() => pool.end());
    const health = new ProviderHealth({ policy });
    new FallbackCrmClient(
      [{ provider: 'postgres', port: new PostgresCrm(pool) }],
      health.forFamily('crm'),
    );
    new FallbackBilling(
      [{ provider: 'postgres', port: new PostgresBilling(pool) }],
      health.forFamily('billing'),
    );
    const checker = new HealthChecker(health, { intervalMs: 100, timeoutMs: 400 });
    closers.push(() => checker.close());
    await checker.tick();
    const breakers = ['crm:postgres', 'billing:postgres'];
    assert.deepEqual(
      breakers.map((b) => health.state(b).view),
      ['closed', 'closed'],
    );

    checker.start();
    await proxy.blackhole();
    await until(10_000, 'both open', () =>
      breakers.every((b) => health.state(b).state.state === 'open'),
    );
    for (const b of breakers)
      assert.match(health.state(b).state.reason ?? '', /3 timeouts in a row/);
    await proxy.clear();
    await until(15_000, 'both closed', () =>
      breakers.every((b) => health.state(b).state.state === 'closed'),
    );
  });

  it('two processes sharing Redis send one check per provider per interval', async () => {
    const proxy = await proxyFor('hc-llm-fleet', hostPort(openaiUrl));
    const intervalMs = 200;
    const checkers = [0, 1].map(() => {
      const health = sharedProviderHealth(redisUrl, { policy, refreshMs: 100 });
      closers.push(() => health.close());
      return llmProcess(proxy, health, intervalMs);
    });
    const before = openai.requestsTo('/v1/models');
    const started = Date.now();
    // Each process ticks 15 times, at the same moments: without the lease, 30 checks.
    for (let i = 0; i < 15; i++) {
      await Promise.all(checkers.map((c) => c.tick()));
      await sleep(intervalMs);
    }
    const slots = Math.ceil((Date.now() - started) / intervalMs) + 1;
    const checks = openai.requestsTo('/v1/models') - before;
    assert.ok(checks >= 10, `the fleet checked (${checks})`);
    // One per interval, not per tick: the two processes of a tick can read the clock on either
    // side of an interval's end, and each wins its own interval's lease.
    assert.ok(checks <= slots, `${checks} checks in ≤ ${slots} intervals`);
  });

  it('a check in flight is not doubled, and the skipped one runs once it ends', async () => {
    const proxy = await proxyFor('hc-llm-inflight', hostPort(openaiUrl));
    await proxy.latency(400);
    const health = new ProviderHealth({ policy });
    // Each check takes 400 ms: the next ticks come while it is in flight.
    const checker = llmProcess(proxy, health, 50, 2_000);
    const before = openai.requestsTo('/v1/models');
    const first = checker.tick();
    await sleep(50);
    const second = checker.tick();
    const third = checker.tick();
    await Promise.all([first, second, third]);
    assert.equal(openai.requestsTo('/v1/models') - before, 2, 'one in flight, one owed');
    assert.equal(health.state('llm:openai').view, 'closed');
  });
});
