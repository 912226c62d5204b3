// Warehouse in a local DuckDB file (the default; Snowflake in production). A load puts the
// batch into a temporary staging table, then, in one transaction, copies the new ids into
// the raw `events` table and every typed projection with ON CONFLICT DO NOTHING: a repeated
// event id changes nothing anywhere.
//
// One writer: a DuckDB file can be open for writing by one process at a time (a second
// process cannot even open it read-only meanwhile). The warehouse loader owns the file;
// with `idleCloseMs` it lets go of it when no event came for that long, so `switchboard
// report` (which opens it itself) gets in between, and a writer that finds the file locked
// waits up to `lockWaitMs` for it. A loader's handler that still cannot open it throws; the
// bus then redelivers the event later (its offset is not committed), so nothing is lost.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { paths } from '../../infra/paths';
import type { AnyBusEvent, EventType } from '../../contracts/events';
import { ProviderError } from '../provider-error';
import type { Warehouse, WarehouseLoadResult } from './port';
import { rawEventRow } from './raw-event-row';

export interface DuckDbWarehouseOptions {
  /** The database file; default `<paths().data>/warehouse.duckdb`. ':memory:' for scratch. */
  path?: string;
  /** Open for queries only (no schema changes, no loads). */
  readOnly?: boolean;
  /** Close the file after this long without use, so another process can open it. */
  idleCloseMs?: number;
  /** How long opening waits while another process holds the file. */
  lockWaitMs?: number;
}

export const defaultWarehousePath = (): string => path.join(paths().data, 'warehouse.duckdb');

/** Parameter values a query binds: DuckDB's own, by position. */
export type SqlParams = DuckDBValue[];
export type Row = Record<string, unknown>;

const RAW_COLUMNS = [
  'event_id',
  'type',
  'call_id',
  'workflow_id',
  'seq',
  'occurred_at',
  'schema_version',
  'payload',
] as const;
/** Rows per INSERT into staging (8 parameters each). */
const STAGE_CHUNK = 500;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  event_id VARCHAR PRIMARY KEY, type VARCHAR NOT NULL, call_id VARCHAR NOT NULL,
  workflow_id VARCHAR NOT NULL, seq BIGINT NOT NULL, occurred_at TIMESTAMP NOT NULL,
  schema_version INTEGER NOT NULL, payload JSON NOT NULL,
  loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp);
CREATE TABLE IF NOT EXISTS calls (
  event_id VARCHAR PRIMARY KEY, call_id VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL,
  disposition VARCHAR NOT NULL, intents VARCHAR[] NOT NULL, turns INTEGER NOT NULL,
  duration_ms BIGINT NOT NULL, fallbacks_used JSON NOT NULL, customer_id VARCHAR,
  recording_key VARCHAR, call_log_id VARCHAR);
CREATE TABLE IF NOT EXISTS turn_metrics (
  event_id VARCHAR PRIMARY KEY, call_id VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL,
  turn_id INTEGER NOT NULL, asr_ms DOUBLE, intent_ms DOUBLE, retrieval_ms DOUBLE,
  llm_ms DOUBLE, tts_ms DOUBLE, end_to_end_ms DOUBLE NOT NULL, asr_provider VARCHAR,
  intent_provider VARCHAR, retrieval_provider VARCHAR, llm_provider VARCHAR,
  tts_provider VARCHAR, asr_audio_ms BIGINT, tts_characters BIGINT,
  llm_input_tokens BIGINT, llm_output_tokens BIGINT, tts_cache_hit BOOLEAN, barge_in BOOLEAN);
CREATE TABLE IF NOT EXISTS provider_fallbacks (
  event_id VARCHAR PRIMARY KEY, call_id VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL,
  stage VARCHAR NOT NULL, failed_provider VARCHAR NOT NULL, reason VARCHAR NOT NULL,
  served_by VARCHAR, turn_id INTEGER);
CREATE TABLE IF NOT EXISTS transcript_lines (
  event_id VARCHAR PRIMARY KEY, call_id VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL,
  seq BIGINT NOT NULL, turn_id INTEGER NOT NULL, speaker VARCHAR NOT NULL, text VARCHAR NOT NULL,
  confidence DOUBLE, intent VARCHAR, reason VARCHAR, interrupted_heard_ms BIGINT,
  asr_provider VARCHAR);
CREATE TABLE IF NOT EXISTS recordings (
  event_id VARCHAR PRIMARY KEY, call_id VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL,
  bucket VARCHAR NOT NULL, object_key VARCHAR NOT NULL, duration_ms BIGINT NOT NULL,
  truncated BOOLEAN NOT NULL, size_bytes BIGINT);
CREATE TABLE IF NOT EXISTS call_analytics (
  event_id VARCHAR PRIMARY KEY, call_id VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL,
  summary VARCHAR NOT NULL, disposition VARCHAR NOT NULL, qa_flags VARCHAR[] NOT NULL,
  summary_provider VARCHAR NOT NULL, transcription_provider VARCHAR NOT NULL,
  transcript_words INTEGER NOT NULL);
`;

const d = (field: string, cast = 'VARCHAR') => `CAST(payload->>'$.data.${field}' AS ${cast})`;
const list = (field: string) => `from_json(payload->'$.data.${field}', '["VARCHAR"]')`;

/**
 * Each projection: its table, the event type it reads (as a string: `call.analyzed` may be
 * newer than this build's catalogue) and the SELECT list over a raw row.
 */
const PROJECTIONS: { table: string; type: string; select: string }[] = [
  {
    table: 'calls',
    type: 'call.ended',
    select: `event_id, call_id, occurred_at, ${d('disposition')}, ${list('intents')},
      ${d('turns', 'INTEGER')}, ${d('duration_ms', 'BIGINT')}, payload->'$.data.fallbacks_used',
      ${d('customer_id')}, ${d('recording_key')}, ${d('call_log_id')}`,
  },
  {
    table: 'turn_metrics',
    type: 'turn.metrics',
    select: `event_id, call_id, occurred_at, ${d('turn_id', 'INTEGER')},
      ${['asr', 'intent', 'retrieval', 'llm', 'tts', 'end_to_end'].map((s) => d(`latency_ms.${s}`, 'DOUBLE')).join(', ')},
      ${['asr', 'intent', 'retrieval', 'llm', 'tts'].map((s) => d(`providers.${s}`)).join(', ')},
      ${['asr_audio_ms', 'tts_characters', 'llm_input_tokens', 'llm_output_tokens'].map((u) => d(`usage.${u}`, 'BIGINT')).join(', ')},
      ${d('tts_cache_hit', 'BOOLEAN')}, ${d('barge_in', 'BOOLEAN')}`,
  },
  {
    table: 'provider_fallbacks',
    type: 'provider.fallback',
    select: `event_id, call_id, occurred_at, ${d('stage')}, ${d('failed_provider')},
      ${d('reason')}, ${d('served_by')}, ${d('turn_id', 'INTEGER')}`,
  },
  {
    table: 'transcript_lines',
    type: 'transcript.line',
    select: `event_id, call_id, occurred_at, seq, ${d('turn_id', 'INTEGER')}, ${d('speaker')},
      ${d('text')}, ${d('confidence', 'DOUBLE')}, ${d('intent')}, ${d('reason')},
      ${d('interrupted_heard_ms', 'BIGINT')}, ${d('asr_provider')}`,
  },
  {
    table: 'recordings',
    type: 'recording.completed',
    select: `event_id, call_id, occurred_at, ${d('bucket')}, ${d('object_key')},
      ${d('duration_ms', 'BIGINT')}, ${d('truncated', 'BOOLEAN')}, ${d('size_bytes', 'BIGINT')}`,
  },
  {
    table: 'call_analytics',
    type: 'call.analyzed',
    select: `event_id, call_id, occurred_at, ${d('summary')}, ${d('disposition')},
      ${list('qa_flags')}, ${d('summary_provider')}, ${d('transcription_provider')},
      ${d('transcript_words', 'INTEGER')}`,
  },
];

/** The typed tables, by the event type that fills them. */
export const PROJECTION_TABLES: Record<string, string> = Object.fromEntries(
  PROJECTIONS.map((p) => [p.type, p.table]),
);

interface Open {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
}

export class DuckDbWarehouse implements Warehouse {
  readonly name = 'duckdb';
  readonly path: string;
  private open?: Promise<Open>;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(readonly opts: DuckDbWarehouseOptions = {}) {
    this.path = opts.path ?? defaultWarehousePath();
  }

  async load(events: AnyBusEvent[]): Promise<WarehouseLoadResult> {
    if (this.opts.readOnly)
      throw new ProviderError(this.name, 'bad_input', `warehouse ${this.path} is open read-only`);
    const unique = [...new Map(events.map((e) => [e.id, e])).values()];
    if (unique.length === 0) return { received: events.length, inserted: 0 };
    return this.use(async (c) => {
      await c.run('BEGIN TRANSACTION');
      try {
        await c.run('DELETE FROM staging');
        for (let i = 0; i < unique.length; i += STAGE_CHUNK) {
          const chunk = unique.slice(i, i + STAGE_CHUNK);
          const row = `(${RAW_COLUMNS.map(() => '?').join(', ')})`;
          await c.run(
            `INSERT INTO staging VALUES ${chunk.map(() => row).join(', ')}`,
            chunk.flatMap(rawEventRow),
          );
        }
        const inserted = await c.runAndReadAll(
          `INSERT INTO events (${RAW_COLUMNS.join(', ')})
           SELECT event_id, type, call_id, workflow_id, seq, CAST(occurred_at AS TIMESTAMP),
                  schema_version, CAST(payload AS JSON)
           FROM staging ON CONFLICT DO NOTHING RETURNING event_id`,
        );
        await projectFrom(c, 'staging', new Set(unique.map((e) => e.type)));
        await c.run('COMMIT');
        return { received: events.length, inserted: inserted.currentRowCount };
      } catch (err) {
        await c.run('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  async count(type?: EventType): Promise<number> {
    const rows = await this.all(
      type ? 'SELECT count(*) AS n FROM events WHERE type = ?' : 'SELECT count(*) AS n FROM events',
      type ? [type] : [],
    );
    return Number(rows[0]!.n);
  }

  /** Runs a query (the report's) and returns its rows as JSON-friendly objects. */
  all(sql: string, params: SqlParams = []): Promise<Row[]> {
    return this.use(async (c) => (await c.runAndReadAll(sql, params)).getRowObjectsJson());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => {});
    await this.release();
  }

  /** One operation at a time on the connection; opens the file on demand. Errors: ProviderErrors. */
  private use<T>(op: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      if (this.closed)
        throw new ProviderError(this.name, 'unavailable', `warehouse ${this.path} is closed`, {
          retryable: false,
        });
      clearTimeout(this.idleTimer);
      this.open ??= this.connect().catch((err) => {
        this.open = undefined;
        throw err;
      });
      try {
        return await op((await this.open).connection);
      } finally {
        // (Never for ':memory:': closing it would drop the data.)
        if (this.opts.idleCloseMs !== undefined && this.path !== ':memory:') {
          this.idleTimer = setTimeout(() => void this.releaseWhenIdle(), this.opts.idleCloseMs);
          this.idleTimer.unref();
        }
      }
    });
    this.queue = run.catch(() => {});
    return run.catch((err: unknown) => {
      throw duckDbError(this.name, err);
    });
  }

  private releaseWhenIdle(): void {
    this.queue = this.queue.then(() => this.release());
  }

  private async release(): Promise<void> {
    const open = await this.open?.catch(() => undefined);
    this.open = undefined;
    open?.connection.closeSync();
    open?.instance.closeSync();
  }

  private async connect(): Promise<Open> {
    const memory = this.path === ':memory:';
    if (!memory) mkdirSync(path.dirname(this.path), { recursive: true });
    const options: Record<string, string> = this.opts.readOnly ? { access_mode: 'READ_ONLY' } : {};
    const deadline = Date.now() + (this.opts.lockWaitMs ?? 10_000);
    let delay = 50;
    for (;;) {
      try {
        const instance = await DuckDBInstance.create(this.path, options);
        const connection = await instance.connect();
        if (!this.opts.readOnly) {
          await connection.run(SCHEMA);
          await connection.run(
            `CREATE TEMP TABLE IF NOT EXISTS staging (event_id VARCHAR, type VARCHAR,
               call_id VARCHAR, workflow_id VARCHAR, seq BIGINT, occurred_at VARCHAR,
               schema_version INTEGER, payload VARCHAR)`,
          );
          // Raw rows a projection has not seen yet (a type that got its projection later).
          await projectFrom(connection, 'events');
        }
        return { instance, connection };
      } catch (err) {
        const locked = /lock/i.test((err as Error).message);
        if (!locked || Date.now() + delay > deadline) {
          throw new Error(
            `cannot open the warehouse ${this.path}` +
              (locked ? ' (another process holds it: the warehouse loader?)' : '') +
              `: ${(err as Error).message}`,
            { cause: err },
          );
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 1_000);
      }
    }
  }
}

// DuckDB's error classes that name the request, not the engine: another try fails alike.
const FINAL_ERRORS = /^(Conversion|Constraint|Binder|Parser|Invalid Input|Catalog) Error/;

function duckDbError(provider: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof Error && FINAL_ERRORS.test(err.message))
    return new ProviderError(provider, 'bad_input', err.message, { cause: err });
  return ProviderError.from(provider, err);
}

/** Projects the raw rows of `source` (staging or events) into the typed tables (of `types`). */
async function projectFrom(
  c: DuckDBConnection,
  source: 'staging' | 'events',
  types?: Set<string>,
): Promise<void> {
  for (const p of PROJECTIONS) {
    if (types && !types.has(p.type)) continue;
    const from =
      source === 'staging'
        ? `(SELECT event_id, type, call_id, seq, CAST(occurred_at AS TIMESTAMP) AS occurred_at,
             CAST(payload AS JSON) AS payload FROM staging)`
        : 'events';
    await c.run(
      `INSERT INTO ${p.table} SELECT ${p.select} FROM ${from} AS raw
       WHERE raw.type = '${p.type}'
         AND NOT EXISTS (SELECT 1 FROM ${p.table} t WHERE t.event_id = raw.event_id)
       ON CONFLICT DO NOTHING`,
    );
  }
}
