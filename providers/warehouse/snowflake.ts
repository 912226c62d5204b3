// Warehouse on Snowflake (snowflake-sdk). A load is a MERGE by event id into the raw EVENTS
// table (payload as VARIANT): an id already there is left alone, so redelivered events never
// double a row. The typed projections the DuckDB adapter keeps as tables are views over
// EVENTS here (snowflake-schema.sql, created once by whoever owns the Snowflake account, not
// by this adapter). Credentials come from the environment only.
import snowflake, { type Bind, type Connection, type ConnectionOptions } from 'snowflake-sdk';
import type { AnyBusEvent, EventType } from '../../contracts/events';
import { ProviderError } from '../provider-error';
import type { Warehouse, WarehouseLoadResult } from './port';
import { rawEventRow } from './raw-event-row';

export interface SnowflakeWarehouseOptions {
  account: string;
  username: string;
  password: string;
  database: string;
  schema: string;
  warehouse: string;
  role?: string;
  /** Overrides the account's URL (tests: a loopback replay server). */
  accessUrl?: string;
  /** The raw events table; default EVENTS. */
  table?: string;
  /** Rows per MERGE (8 bindings each). */
  batchRows?: number;
}

/** The adapter's options from SNOWFLAKE_* variables; a clear error names what is missing. */
export function snowflakeOptionsFromEnv(env = process.env): SnowflakeWarehouseOptions {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`the Snowflake warehouse needs ${name} in the environment`);
    return v;
  };
  return {
    account: need('SNOWFLAKE_ACCOUNT'),
    username: need('SNOWFLAKE_USER'),
    password: need('SNOWFLAKE_PASSWORD'),
    database: env.SNOWFLAKE_DATABASE || 'SWITCHBOARD',
    schema: env.SNOWFLAKE_SCHEMA || 'ANALYTICS',
    warehouse: need('SNOWFLAKE_WAREHOUSE'),
    ...(env.SNOWFLAKE_ROLE && { role: env.SNOWFLAKE_ROLE }),
  };
}

let configured = false;

export class SnowflakeWarehouse implements Warehouse {
  readonly name = 'snowflake';
  private connection?: Promise<Connection>;
  private readonly table: string;

  constructor(readonly opts: SnowflakeWarehouseOptions) {
    this.table = opts.table ?? 'EVENTS';
    if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(this.table)) {
      throw new Error(`table ${JSON.stringify(this.table)} is not a plain identifier`);
    }
  }

  async load(events: AnyBusEvent[]): Promise<WarehouseLoadResult> {
    // A MERGE whose source holds one id twice would insert it twice: de-duplicate first.
    const unique = [...new Map(events.map((e) => [e.id, e])).values()];
    const size = this.opts.batchRows ?? 1_000;
    const batches: AnyBusEvent[][] = [];
    for (let i = 0; i < unique.length; i += size) batches.push(unique.slice(i, i + size));
    let inserted = 0;
    const many = batches.length > 1; // one MERGE is atomic by itself
    if (many) await this.query('BEGIN');
    try {
      for (const batch of batches) {
        const rows = await this.query(this.mergeSql(batch.length), batch.flatMap(rawEventRow));
        inserted += Number(rows[0]?.['number of rows inserted'] ?? 0);
      }
      if (many) await this.query('COMMIT');
    } catch (err) {
      if (many) await this.query('ROLLBACK').catch(() => {});
      throw err;
    }
    return { received: events.length, inserted };
  }

  async count(type?: EventType): Promise<number> {
    const rows = type
      ? await this.query(`SELECT COUNT(*) AS N FROM ${this.table} WHERE TYPE = ?`, [type])
      : await this.query(`SELECT COUNT(*) AS N FROM ${this.table}`);
    return Number(rows[0]?.N ?? 0);
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    const c = await pending?.catch(() => undefined);
    if (c) await new Promise<void>((resolve) => c.destroy(() => resolve()));
  }

  private mergeSql(rows: number): string {
    const row = '(?, ?, ?, ?, ?, ?, ?, ?)';
    return (
      `MERGE INTO ${this.table} t USING (SELECT column1 AS event_id, column2 AS type, ` +
      'column3 AS call_id, column4 AS workflow_id, column5 AS seq, ' +
      'TO_TIMESTAMP_NTZ(column6) AS occurred_at, column7 AS schema_version, ' +
      `PARSE_JSON(column8) AS payload FROM VALUES ${Array(rows).fill(row).join(', ')}) s ` +
      'ON t.event_id = s.event_id WHEN NOT MATCHED THEN INSERT ' +
      '(event_id, type, call_id, workflow_id, seq, occurred_at, schema_version, payload) ' +
      'VALUES (s.event_id, s.type, s.call_id, s.workflow_id, s.seq, s.occurred_at, ' +
      's.schema_version, s.payload)'
    );
  }

  private async query(sqlText: string, binds: Bind[] = []): Promise<Record<string, unknown>[]> {
    const c = await this.connect();
    return new Promise((resolve, reject) => {
      c.execute({
        sqlText,
        ...(binds.length > 0 && { binds }),
        complete: (err, _stmt, rows) =>
          err
            ? reject(snowflakeError(`Snowflake: ${err.message}`, err))
            : resolve((rows ?? []) as Record<string, unknown>[]),
      });
    });
  }

  private connect(): Promise<Connection> {
    if (!configured) {
      // Its errors reach the caller in ours; its own console log would only repeat them.
      snowflake.configure({ logLevel: 'OFF' });
      configured = true;
    }
    this.connection ??= new Promise<Connection>((resolve, reject) => {
      const o = this.opts;
      const conn: ConnectionOptions = {
        account: o.account,
        username: o.username,
        password: o.password,
        database: o.database,
        schema: o.schema,
        warehouse: o.warehouse,
        ...(o.role && { role: o.role }),
        ...(o.accessUrl && { accessUrl: o.accessUrl }),
      };
      snowflake.createConnection(conn).connect((err, c) => {
        if (err) reject(snowflakeError(`cannot log in to Snowflake: ${err.message}`, err));
        else resolve(c);
      });
    }).catch((err: unknown) => {
      this.connection = undefined;
      throw err;
    });
    return this.connection;
  }
}

// SQLSTATE classes a retry cannot fix: 22 data exception, 23 integrity constraint, 42 syntax
// or access; anything else (network, a suspended warehouse) may pass.
function snowflakeError(message: string, err: Error & { sqlState?: string }): ProviderError {
  const final = ['22', '23', '42'].includes(err.sqlState?.slice(0, 2) ?? '');
  return new ProviderError('snowflake', final ? 'bad_input' : 'unavailable', message, {
    cause: err,
  });
}
