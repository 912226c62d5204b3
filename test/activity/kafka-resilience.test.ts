// Kafka-only resilience, on real brokers: a broker stopped (cleanly, and killed) in the middle
// of publishing and started again loses nothing; a consumer process killed mid-stream
// resumes from its committed offsets and, with its ledger as the de-dup store, loads every
// event exactly once. The outage tests run a dedicated broker (scratch state dir and
// ports) so the shared one keeps serving everyone else.
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BoundedSeenEvents, dedupeById } from '../../providers/events';
import type { AnyBusEvent } from '../../contracts/events';
import { KafkaEventBus } from '../../providers/events/kafka';
import { infraUp, kafkaBrokers } from '../../infra';
import { deleteTopicsWithPrefix } from '../../testing/kafka-admin';
import { type ScratchKafka, startScratchKafka } from '../helpers/scratch-kafka';
import { Collector, line } from '../../testing/event-fixtures';

/** A fresh group's view of a call's transcript: the distinct events, and the repeats dropped. */
async function readAll(bus: KafkaEventBus, callId: string, expected: number) {
  const once = new Collector();
  const duplicates: string[] = [];
  const sub = await bus.subscribe({
    groupId: `${callId}-reader`,
    handlers: dedupeById({ 'transcript.line': once.handle }, new BoundedSeenEvents(), (e) =>
      duplicates.push(e.id),
    ),
  });
  try {
    await once.until(`${expected} distinct events`, () => once.received.length >= expected);
  } finally {
    await sub.close();
  }
  return { events: once.received.map((r) => r.event), duplicates };
}

describe('Kafka resilience', function () {
  this.timeout(300_000);

  describe('a dedicated broker stopped mid-publish', () => {
    let broker: ScratchKafka;
    let brokers: string[];

    before(async () => {
      broker = await startScratchKafka();
      brokers = broker.brokers;
    });
    after(() => broker.close());

    for (const how of ['stopped (SIGTERM)', 'killed (SIGKILL)'] as const) {
      it(`${how} and restarted: every publish completes, nothing is lost`, async () => {
        const callId = how.startsWith('stopped') ? 'CAstop' : 'CAkill';
        const notices: string[] = [];
        const bus = new KafkaEventBus({
          brokers,
          topicPrefix: `${callId}.`,
          publishTimeoutMs: 120_000,
          backoff: { initialMs: 100, maxMs: 1_000 },
          log: (level, msg) => notices.push(`${level} ${msg}`),
        });
        let finish = false;
        let publisher: Promise<void> | undefined;
        try {
          await broker.start(); // up, whatever ran before
          // A call publishing without pause; the broker goes away under it.
          let done = 0;
          publisher = (async () => {
            while (!finish) {
              await bus.publish([line(callId, done), line(callId, done + 1)]);
              done += 2;
            }
          })();
          const until = async (cond: () => boolean) => {
            while (!cond()) await new Promise((r) => setTimeout(r, 20));
          };
          await until(() => done >= 10);

          if (how.startsWith('stopped')) assert.ok(await broker.stop());
          else await broker.kill();
          const stalledAt = done;
          await new Promise((r) => setTimeout(r, 3_000)); // the outage
          assert.ok(done - stalledAt <= 2, `${done - stalledAt} events published with no broker`);
          await broker.start();
          await until(() => done >= stalledAt + 10); // the waiting publish went through
          finish = true;
          await publisher;
          const total = done;
          assert.ok(
            notices.some((n) => /retrying|succeeded after/.test(n)),
            `the outage was not noticed:\n${notices.join('\n')}`,
          );

          const { events } = await readAll(bus, callId, total);
          assert.deepEqual(
            events.map((e: AnyBusEvent) => e.seq),
            Array.from({ length: total }, (_, i) => i),
            'every event, in order',
          );
        } finally {
          finish = true;
          await publisher?.catch(() => {});
          await bus.close();
        }
      });
    }

    it('a publish that outlasts its deadline fails with EventBusUnavailableError', async () => {
      await broker.start();
      assert.ok(await broker.stop());
      const bus = new KafkaEventBus({
        brokers,
        topicPrefix: 'CAdeadline.',
        publishTimeoutMs: 2_000,
        backoff: { initialMs: 100, maxMs: 500 },
        log: () => {},
      });
      try {
        await assert.rejects(bus.publish([line('CAdeadline', 0)]), {
          name: 'EventBusUnavailableError',
          message: /Kafka \(127\.0\.0\.1:\d+\) unavailable: publishing 1 event\(s\) failed for/,
        });
      } finally {
        await bus.close();
        await broker.start();
      }
    });
  });

  describe('a consumer process killed mid-stream (shared broker)', () => {
    const prefix = `test-${process.pid}-crash.`;
    let dir: string;
    let children: ChildProcess[] = [];

    before(async () => {
      await infraUp({ quiet: true });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-consumer-'));
    });
    after(async () => {
      children.forEach((c) => c.kill('SIGKILL'));
      children = [];
      await deleteTopicsWithPrefix(kafkaBrokers(), prefix);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const startConsumer = async () => {
      const child = fork(path.join(__dirname, 'kafka-consumer-child.ts'), {
        execArgv: ['--require', 'tsx/cjs'],
        env: {
          ...process.env,
          BROKERS: kafkaBrokers().join(','),
          PREFIX: prefix,
          GROUP: `${prefix}loader`,
          LEDGER: path.join(dir, 'ledger'),
          DELIVERIES: path.join(dir, 'deliveries'),
          HANDLER_MS: '40',
        },
        stdio: 'inherit',
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`consumer exited with ${code}`)));
      });
      return child;
    };
    const lines = (file: string) =>
      fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

    it('resumes from the committed offset and loads every event exactly once', async () => {
      const total = 60;
      const bus = new KafkaEventBus({
        brokers: kafkaBrokers(),
        topicPrefix: prefix,
        log: () => {},
      });
      try {
        await bus.publish(Array.from({ length: total }, (_, i) => line('CAcrash', i)));
      } finally {
        await bus.close();
      }
      const ledger = path.join(dir, 'ledger');
      const deliveries = path.join(dir, 'deliveries');

      const first = await startConsumer();
      while (lines(ledger).length < 20) await new Promise((r) => setTimeout(r, 20));
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const loadedBefore = lines(ledger).length;
      const deliveredBefore = lines(deliveries).length;
      assert.ok(loadedBefore < total, 'the first consumer finished before it was killed');

      await startConsumer();
      const deadline = Date.now() + 120_000;
      while (lines(ledger).length < total) {
        assert.ok(Date.now() < deadline, `loaded ${lines(ledger).length} of ${total}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const loaded = lines(ledger);
      assert.deepEqual(
        [...loaded].sort(),
        Array.from({ length: total }, (_, i) => `call-CAcrash:transcript.line:${i}`).sort(),
        'every event loaded exactly once',
      );
      const secondRun = lines(deliveries).slice(deliveredBefore);
      // Resumed from the committed offset: at most the one in-flight event is seen again.
      assert.ok(
        secondRun.length <= total - loadedBefore + 1,
        `the restarted consumer re-read ${secondRun.length} events for ${total - loadedBefore} left`,
      );
      assert.ok(!secondRun.includes('call-CAcrash:transcript.line:0'), 'started over from 0');
    });
  });
});
