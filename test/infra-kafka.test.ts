// The local Kafka broker as `switchboard infra up` runs it: up and answering on loopback,
// installed once (a second install finds the jars), strict about topics, and a taken port
// is a clear error. Leaves the shared broker running.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Admin, Producer } from '@platformatic/kafka';
import { infraStatus, infraUp, KAFKA_VERSION, kafkaBrokers, paths } from '../infra';
import { ensureKafka, kafkaSpec } from '../infra/kafka';
import { startService } from '../infra/services';

describe('infra: Kafka', function () {
  this.timeout(180_000); // a first run downloads the jars

  before(async () => {
    await infraUp({ quiet: true });
  });

  it('runs as a KRaft single node on 127.0.0.1 and answers metadata requests', async () => {
    const row = (await infraStatus({ print: false })).find((s) => s.service === 'kafka');
    assert.equal(row?.state, 'up');
    assert.equal(row?.address, kafkaBrokers().join(','));
    const admin = new Admin({ clientId: 'infra-test', bootstrapBrokers: kafkaBrokers() });
    try {
      const cluster = await admin.metadata({ topics: [], forceUpdate: true });
      assert.deepEqual(
        [...cluster.brokers.values()].map((b) => `${b.host}:${b.port}`),
        kafkaBrokers(),
      );
      assert.equal(cluster.controllerId, 1);
    } finally {
      await admin.close();
    }
    const props = fs.readFileSync(`${paths().kafkaData}/server.properties`, 'utf8');
    assert.match(props, /^process\.roles=broker,controller$/m);
    assert.match(
      props,
      /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:\d+,CONTROLLER:\/\/127\.0\.0\.1:\d+$/m,
    );
    const cmdline = fs.readFileSync(`/proc/${row?.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('kafka.Kafka'));
    assert.ok(cmdline.includes('-Xmx512m'), 'small heap by default');
  });

  it('a second install finds the jars of this version and downloads nothing', async () => {
    const lines: string[] = [];
    const { libs } = await ensureKafka((l) => lines.push(l));
    assert.deepEqual(lines, []);
    assert.equal(libs, paths().kafkaLibs(KAFKA_VERSION));
    assert.ok(fs.existsSync(`${libs}/kafka_2.13-${KAFKA_VERSION}.jar`));
    assert.ok(fs.existsSync(`${libs}/kafka-clients-${KAFKA_VERSION}.jar`), 'runtime deps too');
  });

  it('does not create topics on first use', async () => {
    const producer = new Producer({
      clientId: 'infra-test',
      bootstrapBrokers: kafkaBrokers(),
      retries: 1,
      autocreateTopics: true, // asks the broker to create it: it must refuse
    });
    try {
      await assert.rejects(
        producer.send({
          messages: [{ topic: `no-such-topic-${process.pid}`, value: Buffer.from('x') }],
        }),
        /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION|retries|unknown topic/i,
      );
    } finally {
      await producer.close();
    }
  });

  it('a taken broker port is a clear error naming KAFKA_PORT', async () => {
    const squatter = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    const { java, libs } = await ensureKafka(() => {}); // the shared install
    // A scratch state dir: the shared broker's pidfile is not this test's to judge.
    const saved = { home: process.env.SWITCHBOARD_HOME, port: process.env.KAFKA_PORT };
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-kafka-port-'));
    process.env.SWITCHBOARD_HOME = home;
    process.env.KAFKA_PORT = String((squatter.address() as net.AddressInfo).port);
    try {
      await assert.rejects(
        startService(kafkaSpec(java, libs), () => {}),
        new RegExp(`\\(Kafka broker\\) is already in use by pid ${process.pid}.*KAFKA_PORT`),
      );
    } finally {
      const restore = (k: string, v: string | undefined) =>
        v === undefined ? delete process.env[k] : (process.env[k] = v);
      restore('SWITCHBOARD_HOME', saved.home);
      restore('KAFKA_PORT', saved.port);
      squatter.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
