// `switchboard health`: the fleet's provider health as every process sees it (the breaker
// states in the local platform's Redis): state, since when, failures in the window, the
// last error. `--json` for tools.
import type { Command } from 'commander';
import { redisCacheClient } from '../providers/cache/redis';
import {
  clockTime,
  healthPolicyFromEnv,
  viewOf,
  windowCounts,
  type BreakerState,
  type HealthView,
} from '../providers/health/policy';
import { RedisHealthStore, type StoredTransition } from '../providers/health/redis-store';
import { localEnv } from './dev-env';
import { table } from './report';

export interface HealthRow {
  provider: string;
  state: HealthView;
  since: string;
  /** Open: when the next probe may go. */
  probeAfter?: string;
  reason?: string;
  failures: number;
  requests: number;
  lastError?: string;
  lastErrorAt?: string;
}

export function healthRows(
  states: Map<string, BreakerState>,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
): HealthRow[] {
  const policy = healthPolicyFromEnv(env);
  return [...states].map(([provider, s]) => {
    const { requests, failures } = windowCounts(s, policy, now);
    return {
      provider,
      state: viewOf(s, now),
      since: new Date(s.since).toISOString(),
      ...(s.state === 'open' &&
        s.until !== undefined && {
          probeAfter: new Date(s.until).toISOString(),
        }),
      ...(s.reason !== undefined && s.state === 'open' && { reason: s.reason }),
      failures,
      requests,
      ...(s.lastError !== undefined && { lastError: s.lastError }),
      ...(s.lastErrorAt !== undefined && { lastErrorAt: new Date(s.lastErrorAt).toISOString() }),
    };
  });
}

export function formatHealth(rows: HealthRow[], windowMs: number): string {
  const w = `${Math.round(windowMs / 1000)} s`;
  return [
    `Provider health (times UTC; failures and requests in the last ${w})`,
    table(
      ['provider', 'state', 'since', 'failures', 'requests', 'last error'],
      rows.map((r) => [
        r.provider,
        r.state + (r.reason ? ` (${r.reason})` : ''),
        clockTime(Date.parse(r.since)),
        r.failures,
        r.requests,
        r.lastError ? `${clockTime(Date.parse(r.lastErrorAt!))} ${r.lastError.slice(0, 80)}` : '',
      ]),
    ),
  ].join('\n');
}

/** The fleet's last breaker moves, newest first. */
export function formatTransitions(moves: StoredTransition[]): string {
  if (moves.length === 0) return 'No breaker moves recorded.';
  return [
    'Last breaker moves (newest first)',
    table(
      ['at', 'provider', 'move', 'why / last error'],
      moves.map((m) => [
        clockTime(m.at),
        m.provider,
        `${m.from} → ${m.to}`,
        (m.reason ?? m.lastError ?? '').slice(0, 80),
      ]),
    ),
  ].join('\n');
}

export async function readHealth(
  env: NodeJS.ProcessEnv,
): Promise<{ rows: HealthRow[]; moves: StoredTransition[] }> {
  const url = env.REDIS_URL!;
  const redis = redisCacheClient(url);
  try {
    const store = new RedisHealthStore(redis);
    return { rows: healthRows(await store.all(), env), moves: await store.transitions(10) };
  } catch (err) {
    throw new Error(
      `cannot read provider health from Redis at ${url} (${err instanceof Error ? err.message : String(err)}); ` +
        'is the platform up? (./switchboard infra up)',
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description(
      'provider health shared by the fleet: each provider with a recorded circuit breaker, its ' +
        'state (closed, open, half_open), since when, failures in the window and the last error; ' +
        'then the last breaker moves',
    )
    .option('--json', 'print the rows as JSON')
    .action(async (o: { json?: boolean }) => {
      const env = localEnv();
      try {
        const { rows, moves } = await readHealth(env);
        if (o.json) console.log(JSON.stringify({ providers: rows, moves }, null, 2));
        else {
          console.log(formatHealth(rows, healthPolicyFromEnv(env).windowMs));
          console.log(`\n${formatTransitions(moves)}`);
        }
      } catch (err) {
        console.error(`[switchboard] error: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      }
    });
}
