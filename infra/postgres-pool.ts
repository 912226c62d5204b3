// The one place PostgreSQL connections get their bounds. A database that refuses fails fast
// by itself; one whose packets are dropped (a dead route, a black hole) answers nothing, and
// without these bounds a connect or a query waits forever, holding a pool slot, while the
// provider's breaker sees nothing. Every pool and client the product opens is built here.
import { Pool, type ClientConfig } from 'pg';

export interface PgBounds {
  /** Opening a connection, and waiting for a free pool slot. */
  connectTimeoutMs: number;
  /** One statement: the server cancels it after this (statement_timeout, lock waits too). */
  queryTimeoutMs: number;
  /** An unused pooled connection is closed after this. */
  idleTimeoutMs: number;
  /** Idle time before the first TCP keepalive probe (a dead peer is noticed). */
  keepAliveMs: number;
}

export const DEFAULT_PG_BOUNDS: PgBounds = {
  connectTimeoutMs: 2_000,
  queryTimeoutMs: 3_000,
  idleTimeoutMs: 30_000,
  keepAliveMs: 10_000,
};

/**
 * The server's cancel (statement_timeout) comes first when the server is reachable: the
 * connection stays usable. The client's own bound, this much later, ends the wait when
 * nothing comes back at all.
 */
const CLIENT_GRACE_MS = 1_000;

/** PG_CONNECT_TIMEOUT_MS, PG_QUERY_TIMEOUT_MS, PG_IDLE_TIMEOUT_MS, PG_KEEPALIVE_MS. */
export function pgBoundsFromEnv(env: NodeJS.ProcessEnv = process.env): PgBounds {
  const ms = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (ms), not "${value}"`); // prettier-ignore
    return n;
  };
  const d = DEFAULT_PG_BOUNDS;
  return {
    connectTimeoutMs: ms('PG_CONNECT_TIMEOUT_MS', env.PG_CONNECT_TIMEOUT_MS, d.connectTimeoutMs),
    queryTimeoutMs: ms('PG_QUERY_TIMEOUT_MS', env.PG_QUERY_TIMEOUT_MS, d.queryTimeoutMs),
    idleTimeoutMs: ms('PG_IDLE_TIMEOUT_MS', env.PG_IDLE_TIMEOUT_MS, d.idleTimeoutMs),
    keepAliveMs: ms('PG_KEEPALIVE_MS', env.PG_KEEPALIVE_MS, d.keepAliveMs),
  };
}

/** Connection settings for one client (a pool adds its idle bound). */
export function boundedClientConfig(bounds: PgBounds = pgBoundsFromEnv()): ClientConfig {
  return {
    connectionTimeoutMillis: bounds.connectTimeoutMs,
    statement_timeout: bounds.queryTimeoutMs,
    // A transaction whose client vanished mid-way would hold its row locks (an invoice)
    // until TCP gave up; none of ours pauses between statements longer than one statement.
    idle_in_transaction_session_timeout: bounds.queryTimeoutMs,
    query_timeout: bounds.queryTimeoutMs + CLIENT_GRACE_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: bounds.keepAliveMs,
  };
}

export interface PostgresPoolOptions {
  max?: number;
  bounds?: PgBounds;
  /** Told about an idle connection that failed (dropped by the server or the network). */
  onIdleError?: (err: Error) => void;
}

/** A pool with bounded waits; the bounds come from the environment unless given. */
export function createPostgresPool(connectionString: string, opts: PostgresPoolOptions = {}): Pool {
  const bounds = opts.bounds ?? pgBoundsFromEnv();
  const pool = new Pool({
    connectionString,
    max: opts.max ?? 10,
    idleTimeoutMillis: bounds.idleTimeoutMs,
    ...boundedClientConfig(bounds),
  });
  // An idle connection that dies emits 'error' on the pool; unheard, it would end the process.
  // The pool has already dropped it: the next query opens a new one.
  pool.on('error', opts.onIdleError ?? (() => undefined));
  return pool;
}
