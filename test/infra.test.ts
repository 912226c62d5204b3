// The local platform, for real: the services run, `up` is idempotent, temporal.yaml is
// applied, a Temporal restart keeps running calls, the object store keeps objects across a
// restart. Leaves the shared services up.
import { localObjectStore } from '../testing/object-store';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { S3ObjectStore } from '../providers/object-store/s3';
import {
  applyTemporalConfig,
  databaseUrl,
  ensureDebianPackages,
  ensureTemporalBinaries,
  freePort,
  infraStatus,
  infraUp,
  loadTemporalConfig,
  OBJECT_STORE_BUCKETS,
  objectStoreConfig,
  type ObjectStoreBucket,
  paths,
  SPEECH_PACKAGES,
  temporalAddress,
} from '../infra';
import { ensureSeaweedfs, missingDebianPackages } from '../infra/install';
import { ensureBuckets, ensureObjectStoreCredentials } from '../infra/object-store';
import {
  objectStoreSpec,
  serviceInfo,
  startService,
  stopService,
  tcpOpen,
  temporalSpec,
} from '../infra/services';

const quiet = { quiet: true };

/** A base port P with P..P+8 and P+10008 free: the object store's layout. */
async function freeObjectStorePort(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = [...Array.from({ length: 9 }, (_, i) => base + i), base + 10_008];
    const taken = await Promise.all(ports.map((p) => tcpOpen('127.0.0.1', p, 200)));
    if (!taken.some(Boolean)) return base;
  }
}

// a store that is not ready must fail here, not be retried into passing
const s3Store = (bucket: ObjectStoreBucket = 'audio') =>
  localObjectStore(bucket, { maxAttempts: 1 });

describe('infra', function () {
  this.timeout(180_000); // a first run installs the Temporal CLI

  before(async () => {
    await infraUp(quiet);
  });

  it('a second up is fast and starts nothing new', async () => {
    const before = await infraStatus({ print: false });
    const again = await infraUp(quiet);
    assert.deepEqual(again.started, []);
    assert.ok(again.tookMs < 5_000, `second up took ${again.tookMs} ms`);
    assert.deepEqual(
      again.status.map((s) => [s.service, s.pid]),
      before.map((s) => [s.service, s.pid]),
    );
  });

  it('status reports every service up and reachable', async () => {
    const status = await infraStatus({ print: false });
    assert.deepEqual(
      status.map((s) => [s.service, s.state, s.reachable]),
      [
        ['temporal', 'up', true],
        ['postgres', 'up', true],
        ['redis', 'up', true],
        ['object-store', 'up', true],
        ['kafka', 'up', true],
      ],
    );
    for (const s of status) assert.ok(s.pid && fs.existsSync(s.log), `${s.service} pid/log`);
  });

  it('the object store has both buckets and takes the generated keys only', async () => {
    for (const bucket of Object.keys(OBJECT_STORE_BUCKETS) as ObjectStoreBucket[]) {
      const store = s3Store(bucket);
      const key = `infra-test/${process.pid}`;
      try {
        await store.put(key, Buffer.from(bucket));
        assert.equal((await store.get(key))?.toString(), bucket);
        await store.delete(key);
      } finally {
        store.close();
      }
    }
    const { objectStoreCredentials, objectStoreIdentities } = paths();
    for (const file of [objectStoreCredentials, objectStoreIdentities]) {
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, `${file} is readable by others`);
      assert.ok(!path.relative(paths().home, file).startsWith('..'), 'outside the state dir');
    }
    const cfg = objectStoreConfig();
    assert.match(cfg.accessKeyId, /^SB[A-Z0-9]{18}$/);
    assert.ok(cfg.secretAccessKey.length >= 40);
    const wrong = new S3ObjectStore({
      ...cfg,
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(wrong.get('anything'), /403/);
    } finally {
      wrong.close();
    }
  });

  it('the speech packages are installed, and checking them again is fast', async () => {
    const t0 = performance.now();
    assert.deepEqual(await ensureDebianPackages(SPEECH_PACKAGES, () => {}), []);
    const ms = performance.now() - t0;
    assert.ok(ms < 500, `the already-installed check took ${ms.toFixed(0)} ms`);
    assert.deepEqual(missingDebianPackages(['sox', 'switchboard-no-such-package']), [
      'switchboard-no-such-package',
    ]);
  });

  it('the dev server has the namespace and search attributes of temporal.yaml', async () => {
    const cfg = loadTemporalConfig();
    const { temporal } = await ensureTemporalBinaries(() => {});
    const out = execFileSync(temporal, [
      ...['operator', 'search-attribute', 'list', '-o', 'json'],
      ...['--namespace', cfg.namespace, '--address', temporalAddress()],
    ]).toString();
    const custom = JSON.parse(out).customAttributes as Record<string, string>;
    for (const [name, type] of Object.entries(cfg.searchAttributes)) {
      const expected = `INDEXED_VALUE_TYPE_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
      assert.equal(custom[name], expected, name);
    }
  });

  it('applying temporal.yaml again changes nothing; a type clash is a clear error', async () => {
    const cfg = loadTemporalConfig();
    const log = () => {};
    const r = await applyTemporalConfig(temporalAddress(), { config: cfg, log });
    assert.deepEqual(r, {
      namespace: cfg.namespace,
      namespaceCreated: false,
      retentionUpdated: false,
      searchAttributesAdded: [],
    });
    const clash = { ...cfg, searchAttributes: { TurnCount: 'Keyword' as const } };
    await assert.rejects(
      applyTemporalConfig(temporalAddress(), { config: clash, log }),
      /search attribute TurnCount exists .* as Int, but temporal.yaml declares Keyword/,
    );
  });

  it('the app role owns both databases', async () => {
    for (const name of ['switchboard', 'switchboard_test'] as const) {
      const pg = new PgClient({ connectionString: databaseUrl(name) });
      await pg.connect();
      try {
        const { rows } = await pg.query('SELECT current_user, current_database()');
        assert.deepEqual(rows[0], { current_user: 'switchboard', current_database: name });
      } finally {
        await pg.end();
      }
    }
  });

  it('the installed binaries run', async () => {
    const { temporal, testServer } = await ensureTemporalBinaries(() => {});
    assert.match(execFileSync(temporal, ['--version']).toString(), /temporal version 1\.9\.1/);
    assert.ok(fs.statSync(testServer).mode & 0o111, 'test server is executable');
  });

  // Scratch state dir and ports: these never touch the shared services (other suites and
  // other people's runs use them at the same time).
  describe('in a scratch state dir', () => {
    const vars = [
      'SWITCHBOARD_HOME',
      'TEMPORAL_PORT',
      'TEMPORAL_UI_PORT',
      'OBJECT_STORE_PORT',
    ] as const;
    const saved = vars.map((v) => process.env[v]);
    let home: string;
    let temporalExe: string;
    let weedExe: string;
    before(async () => {
      temporalExe = (await ensureTemporalBinaries(() => {})).temporal;
      weedExe = await ensureSeaweedfs(() => {});
    });
    beforeEach(async () => {
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-infra-'));
      process.env.SWITCHBOARD_HOME = home;
      process.env.TEMPORAL_PORT = String(await freePort());
      process.env.TEMPORAL_UI_PORT = String(await freePort());
      for (const dir of ['run', 'logs', 'data']) fs.mkdirSync(path.join(home, dir));
    });
    afterEach(async () => {
      await stopService(serviceInfo('temporal'), () => {});
      await stopService(serviceInfo('object-store'), () => {});
      vars.forEach((v, i) => {
        if (saved[i] === undefined) delete process.env[v];
        else process.env[v] = saved[i];
      });
      fs.rmSync(home, { recursive: true, force: true });
    });

    it('a running call survives a Temporal restart (SQLite file)', async () => {
      const cfg = loadTemporalConfig();
      const log = () => {};
      const first = await startService(temporalSpec(temporalExe, cfg), log);
      await applyTemporalConfig(temporalAddress(), { config: cfg, log });
      const workflowId = `infra-restart-${process.pid}`;
      let connection = await Connection.connect({ address: temporalAddress() });
      await new TemporalClient({ connection, namespace: cfg.namespace }).workflow.start(
        'InfraProbeWorkflow',
        {
          workflowId,
          taskQueue: 'infra-test-no-worker',
          searchAttributes: { CallerNumber: ['+15550100'] },
        },
      );
      await connection.close();

      assert.ok(await stopService(serviceInfo('temporal'), log));
      const second = await startService(temporalSpec(temporalExe, cfg), log);
      assert.ok(second.started && second.pid !== first.pid);

      connection = await Connection.connect({ address: temporalAddress() });
      try {
        const client = new TemporalClient({ connection, namespace: cfg.namespace });
        const d = await client.workflow.getHandle(workflowId).describe();
        assert.equal(d.status.name, 'RUNNING');
        assert.deepEqual(d.searchAttributes.CallerNumber, ['+15550100']);
      } finally {
        await connection.close();
      }
    });

    it('the object store keeps objects across a restart and serves as soon as it is up', async () => {
      process.env.OBJECT_STORE_PORT = String(await freeObjectStorePort());
      const log = () => {};
      fs.mkdirSync(paths().objectStoreData, { recursive: true });
      ensureObjectStoreCredentials(log);
      const first = await startService(objectStoreSpec(weedExe), log);
      assert.deepEqual((await ensureBuckets(log)).sort(), Object.values(OBJECT_STORE_BUCKETS));
      let store = s3Store('recordings');
      await store.put('calls/CA1.wav', Buffer.from('kept across a restart'));
      store.close();

      assert.ok(await stopService(serviceInfo('object-store'), log));
      const second = await startService(objectStoreSpec(weedExe), log);
      assert.ok(second.started && second.pid !== first.pid);
      // Up means ready: the first read after start must work (one attempt, no retries).
      store = s3Store('recordings');
      try {
        assert.equal((await store.get('calls/CA1.wav'))?.toString(), 'kept across a restart');
      } finally {
        store.close();
      }
      assert.deepEqual(await ensureBuckets(log), [], 'buckets created twice');
    });

    it('a stale pidfile is removed and its pid left alone', async () => {
      const pidFile = path.join(home, 'run', 'redis.pid');
      const dead = spawnSync('true').pid;
      fs.writeFileSync(pidFile, `${dead}\n`);
      assert.equal(await stopService(serviceInfo('redis'), () => {}), false);
      assert.ok(!fs.existsSync(pidFile));
      // A live pid that is not ours (a recycled pid): never signalled.
      fs.writeFileSync(pidFile, `${process.pid}\n`);
      assert.equal(await stopService(serviceInfo('redis'), () => {}), false);
      assert.ok(!fs.existsSync(pidFile));
    });

    it('a taken port is a clear error naming the port and its owner', async () => {
      const squatter = net.createServer().listen(0, '127.0.0.1');
      await new Promise((r) => squatter.once('listening', r));
      const port = (squatter.address() as net.AddressInfo).port;
      try {
        const spec = {
          ...serviceInfo('redis'),
          command: 'redis-server',
          args: ['--port', String(port)],
          ports: [{ host: '127.0.0.1', port, env: 'REDIS_PORT', what: 'Redis' }],
          startTimeoutMs: 5_000,
        };
        await assert.rejects(
          startService(spec, () => {}),
          new RegExp(
            `127\\.0\\.0\\.1:${port} \\(Redis\\) is already in use by pid ${process.pid}.*REDIS_PORT`,
          ),
        );
      } finally {
        squatter.close();
      }
    });

    it("the object store's derived ports are checked too, naming OBJECT_STORE_PORT", async () => {
      const base = await freeObjectStorePort();
      process.env.OBJECT_STORE_PORT = String(base);
      const squatter = net.createServer().listen(base + 4, '127.0.0.1'); // its volume server port
      await new Promise((r) => squatter.once('listening', r));
      try {
        await assert.rejects(
          startService(objectStoreSpec(weedExe), () => {}),
          new RegExp(
            `127\\.0\\.0\\.1:${base + 4} \\(object store volume server\\) is already in use by ` +
              `pid ${process.pid}.*OBJECT_STORE_PORT`,
          ),
        );
      } finally {
        squatter.close();
      }
    });
  });

  describe('a bad temporal.yaml', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-yaml-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const good = fs.readFileSync(path.join(__dirname, '..', 'temporal.yaml'), 'utf8');
    const load = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return () => loadTemporalConfig(file);
    };

    it('the real file loads', () => {
      const cfg = load('good.yaml', good)();
      assert.equal(cfg.namespace, 'switchboard');
      assert.equal(cfg.searchAttributes.TurnCount, 'Int');
    });

    it('names the file and the bad field', () => {
      assert.throws(
        load('type.yaml', good.replace('TurnCount: Int', 'TurnCount: Integer')),
        (err: Error) =>
          err.message.includes('type.yaml is invalid') &&
          err.message.includes('searchAttributes.TurnCount'),
      );
      assert.throws(
        load('typo.yaml', good.replace('searchAttributes:', 'searchAtributes:')),
        /typo\.yaml is invalid[\s\S]*searchAtributes/,
      );
      assert.throws(load('ns.yaml', good.replace(/^namespace: .*$/m, '')), /namespace/);
    });

    it('says when it is not YAML or missing', () => {
      assert.throws(load('broken.yaml', 'namespace: [oops'), /broken\.yaml is not valid YAML/);
      assert.throws(() => loadTemporalConfig(path.join(dir, 'nope.yaml')), /cannot read .*nope/);
    });
  });
});
