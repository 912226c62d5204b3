// The local platform, for real: the services run, `up` is idempotent, temporal.yaml is
// applied, and a Temporal restart keeps running calls. Leaves the shared services up.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import {
  applyTemporalConfig,
  databaseUrl,
  ensureTemporalBinaries,
  infraStatus,
  infraUp,
  loadTemporalConfig,
  temporalAddress,
} from '../infra';
import { serviceInfo, startService, stopService, temporalSpec } from '../infra/services';

const quiet = { quiet: true };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

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
      ],
    );
    for (const s of status) assert.ok(s.pid && fs.existsSync(s.log), `${s.service} pid/log`);
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
    const vars = ['SWITCHBOARD_HOME', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT'] as const;
    const saved = vars.map((v) => process.env[v]);
    let home: string;
    let temporalExe: string;
    before(async () => {
      temporalExe = (await ensureTemporalBinaries(() => {})).temporal;
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
