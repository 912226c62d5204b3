// One conformance suite for every Warehouse adapter: DuckDB for real (a scratch file), and
// Snowflake against a loopback server replaying recorded exchanges of the REST protocol
// snowflake-sdk speaks (no Snowflake can run here); the replay fails the test on any request
// it did not record; and the fallback adapter wrapping DuckDB, alone and counting through
// [a failing fake, DuckDB]. All: a load stores the events, the same events again change
// nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventCodec } from '../../providers/events';
import type { AnyBusEvent } from '../../contracts/events';
import type { Warehouse } from '../../providers/warehouse/port';
import { DuckDbWarehouse } from '../../providers/warehouse/duckdb';
import { FakeWarehouse } from '../../providers/warehouse/fake';
import { FallbackWarehouse } from '../../providers/warehouse/fallback';
import { ProviderError } from '../../providers/provider-error';
import { SnowflakeWarehouse } from '../../providers/warehouse/snowflake';
import { SnowflakeReplayServer } from '../fixtures/snowflake/replay-server';
import { callEvents } from '../../testing/event-fixtures';
import { conformanceEvents } from './warehouse-events';

const codec = new EventCodec();
/** One call, every event type: seven events. */
const EVENTS: AnyBusEvent[] = conformanceEvents();

interface Subject {
  name: string;
  open(fixture: string): Promise<Warehouse>;
  /** After a test: nothing unexpected happened underneath. */
  check(): void;
  stop(): Promise<void>;
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warehouse-conformance-'));
const replay = new SnowflakeReplayServer();
let snowflakeUrl = '';
let files = 0;
const duckdb = () => new DuckDbWarehouse({ path: path.join(scratch, `wh-${files++}.duckdb`) });
const removeScratch = async () => rmSync(scratch, { recursive: true, force: true });

const SUBJECTS: Subject[] = [
  {
    name: 'duckdb (for real, a scratch file)',
    open: async () => duckdb(),
    check() {},
    stop: removeScratch,
  },
  {
    name: 'fallback(duckdb)',
    open: async () => new FallbackWarehouse([{ provider: 'duckdb', port: duckdb() }]),
    check() {},
    stop: removeScratch,
  },
  {
    // Counts fall through the failing fake; a load never falls through (it may have
    // committed), so it goes to DuckDB itself here.
    name: 'fallback(failing fake, duckdb) counting',
    async open() {
      const real = duckdb();
      const down = new FakeWarehouse();
      down.failures.failWith('unavailable');
      const chain = new FallbackWarehouse([
        { provider: 'fake', port: down },
        { provider: 'duckdb', port: real },
      ]);
      return {
        name: chain.name,
        load: (events) => real.load(events),
        count: (type) => chain.count(type),
        close: () => chain.close(),
      };
    },
    check() {},
    stop: removeScratch,
  },
  {
    name: 'snowflake (replayed REST exchanges)',
    async open(fixture) {
      snowflakeUrl ||= await replay.start();
      replay.use(fixture);
      return new SnowflakeWarehouse({
        account: 'acme-switchboard',
        username: 'LOADER',
        password: 'test-password',
        database: 'SWITCHBOARD',
        schema: 'ANALYTICS',
        warehouse: 'LOADER_WH',
        accessUrl: snowflakeUrl,
      });
    },
    check: () => replay.assertDone(),
    stop: () => (snowflakeUrl ? replay.close() : Promise.resolve()),
  },
];

for (const subject of SUBJECTS) {
  describe(`Warehouse conformance: ${subject.name}`, function () {
    this.timeout(60_000);
    after(() => subject.stop());

    it('loads a call, and the same events again change nothing', async () => {
      const wh = await subject.open('load-twice');
      try {
        assert.deepEqual(await wh.load(EVENTS), { received: 7, inserted: 7 });
        assert.equal(await wh.count(), 7);
        assert.deepEqual(await wh.load(EVENTS), { received: 7, inserted: 0 });
        assert.equal(await wh.count(), 7);
      } finally {
        await wh.close();
      }
      subject.check();
    });
  });
}

describe('Warehouse: Snowflake errors (replayed)', function () {
  this.timeout(60_000);
  const server = new SnowflakeReplayServer();
  after(() => server.close());

  it('a refused login is a clear error, and nothing is loaded', async () => {
    const url = await server.start();
    server.use('bad-login');
    const wh = new SnowflakeWarehouse({
      account: 'acme-switchboard',
      username: 'LOADER',
      password: 'test-password',
      database: 'SWITCHBOARD',
      schema: 'ANALYTICS',
      warehouse: 'LOADER_WH',
      accessUrl: url,
    });
    try {
      await assert.rejects(wh.load(EVENTS), (err) => {
        assert.ok(err instanceof ProviderError, String(err));
        assert.match(err.message, /cannot log in to Snowflake: Incorrect username/);
        return true;
      });
    } finally {
      await wh.close();
    }
    server.assertDone();
  });
});

describe('Warehouse: DuckDB projections and file ownership', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warehouse-duckdb-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('projects each type into its typed table, once, across overlapping batches', async () => {
    const wh = new DuckDbWarehouse({ path: path.join(dir, 'typed.duckdb') });
    try {
      const events = callEvents('CAtyped', 3).map((d) => codec.build(d));
      const half = Math.floor(events.length / 2);
      // Overlapping batches, one with an id twice: every id lands once.
      assert.equal((await wh.load(events.slice(0, half + 2))).inserted, half + 2);
      const second = [...events.slice(half), events[half]!];
      assert.deepEqual(await wh.load(second), {
        received: second.length,
        inserted: events.length - half - 2,
      });
      const count = async (table: string) =>
        Number((await wh.all(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
      assert.equal(await count('events'), events.length);
      assert.equal(await count('transcript_lines'), 7);
      assert.equal(await count('turn_metrics'), 3);
      assert.equal(await count('provider_fallbacks'), 1);
      assert.equal(await count('recordings'), 1);
      assert.equal(await count('calls'), 1);
      const [call] = await wh.all('SELECT disposition, intents, turns FROM calls');
      assert.deepEqual(call, {
        disposition: 'resolved',
        intents: ['check_balance', 'goodbye'],
        turns: 3,
      });
      const [m] = await wh.all(
        'SELECT end_to_end_ms, llm_provider, asr_audio_ms, llm_output_tokens FROM turn_metrics LIMIT 1',
      );
      assert.deepEqual(m, {
        end_to_end_ms: 610,
        llm_provider: 'smollm2',
        asr_audio_ms: '2400',
        llm_output_tokens: null,
      });
      assert.equal(await wh.count('transcript.line'), 7);
      await wh.load(conformanceEvents());
      const [analysis] = await wh.all(
        "SELECT qa_flags, transcript_words FROM call_analytics WHERE call_id = 'CAsnowflake0001'",
      );
      assert.deepEqual(analysis, { qa_flags: ['fallback_used'], transcript_words: 12 });
    } finally {
      await wh.close();
    }
  });

  it('one writer process: another process cannot open the file until the writer lets go', async () => {
    const file = path.join(dir, 'owned.duckdb');
    const events = callEvents('CAowned', 1).map((d) => codec.build(d));
    const holder = new DuckDbWarehouse({ path: file });
    await holder.load(events);
    try {
      const denied = await countInOtherProcess(file, 0);
      assert.match(denied, /lock/i, 'a second process must not open a file the writer holds');
    } finally {
      await holder.close();
    }
    assert.equal(await countInOtherProcess(file, 0), String(events.length));
    // The loader's mode: it lets go when idle, so the report can get in without stopping it.
    const loader = new DuckDbWarehouse({ path: file, idleCloseMs: 200 });
    try {
      assert.equal((await loader.load(events)).inserted, 0);
      assert.equal(await countInOtherProcess(file, 20_000), String(events.length));
      assert.equal(await loader.count(), events.length); // and it opens again on demand
    } finally {
      await loader.close();
    }
  });
});

/**
 * Opens the file read-only in another process (retrying on a lock for up to `waitMs`) and
 * prints its event count, or the error.
 */
function countInOtherProcess(file: string, waitMs: number): Promise<string> {
  const script = `
    const { DuckDBInstance } = require('@duckdb/node-api');
    (async () => {
      const until = Date.now() + ${waitMs};
      for (;;) {
        try {
          const db = await DuckDBInstance.create(${JSON.stringify(file)}, { access_mode: 'READ_ONLY' });
          const r = await (await db.connect()).runAndReadAll('SELECT count(*) AS n FROM events');
          console.log(String(r.getRowObjectsJson()[0].n));
          return;
        } catch (err) {
          if (Date.now() > until) { console.log(err.message); return; }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { cwd: process.cwd() }, (err, stdout) =>
      // execFile's error is an Error; @types/node builds its type with Omit<>, which the rule misses.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      err ? reject(err) : resolve(stdout.trim()),
    ),
  );
}
