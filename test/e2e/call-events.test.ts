// A real call's events, end to end: the call workflow on Temporal publishing to the real
// Kafka broker, a consumer group loading them into a DuckDB warehouse — complete, in order,
// once, with the call's end after its last transcript line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEventLoader } from '../../analytics/load-events';
import { KafkaEventBus } from '../../providers/events/kafka';
import { DuckDbWarehouse } from '../../providers/warehouse/duckdb';
import { kafkaBrokers } from '../../infra';
import { createCallWorker } from '../../workers/call-worker-factory';
import { transcriptQuery } from '../../contracts/call';
import { ADA, postgresTestDeps, startCall } from '../../testing/calls';
import { tappedWarehouse } from '../../testing/data-plane';
import { localEnv, resetDb, workflowBundle } from '../../testing/platform';

describe("a call's events through Kafka into the warehouse", function () {
  this.timeout(180_000);

  it('arrive complete, in order, once', async () => {
    const env = await localEnv();
    await resetDb();
    const prefix = `e2e${randomBytes(4).toString('hex')}.`;
    const bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: prefix });
    const taskQueue = `calls-events-${randomBytes(4).toString('hex')}`;
    const worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      deps: await postgresTestDeps(),
      events: bus,
      workflowBundle: await workflowBundle(),
      taskQueue,
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-events-'));
    const warehouse = new DuckDbWarehouse({ path: path.join(dir, 'w.duckdb') });
    const { warehouse: tapped, seen } = tappedWarehouse(warehouse);
    try {
      const { callSid, transcript } = await worker.runUntil(async () => {
        const call = await startCall(env.client, { from: ADA, taskQueue });
        await call.bridge.streamStarted();
        await call.bridge.utterance("what's my balance");
        await call.bridge.utterance('goodbye');
        await call.handle.result();
        return { ...call, transcript: await call.handle.query(transcriptQuery) };
      });
      const loader = await startEventLoader({ bus, warehouse: tapped, groupId: `${prefix}wh` });
      const deadline = Date.now() + 60_000;
      // Each type has its own topic, consumed in no order across topics: wait for all of them.
      const count = (type: string) =>
        new Set(seen.filter((e) => e.type === type && e.call_id === callSid).map((e) => e.id)).size;
      while (
        count('call.ended') < 1 ||
        count('transcript.line') < transcript.length ||
        count('turn.metrics') < 2
      ) {
        assert.ok(Date.now() < deadline, `not all events after 60 s: ${seen.length} events`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await loader.close();

      const mine = seen.filter((e) => e.call_id === callSid);
      const lines = mine.filter((e) => e.type === 'transcript.line');
      // Every transcript entry once, in order (a redelivery may repeat an id; the warehouse keeps one).
      const ids = [...new Set(lines.map((e) => e.id))];
      assert.deepEqual(
        ids.map((id) => Number(id.split(':').pop())),
        transcript.map((e) => e.seq),
      );
      assert.deepEqual(
        [...new Set(lines.map((e) => e.seq))],
        [...new Set(lines.map((e) => e.seq))].sort((a, b) => a - b),
        'transcript lines in order',
      );
      const metrics = mine.filter((e) => e.type === 'turn.metrics').map((e) => e.seq);
      assert.deepEqual([...new Set(metrics)].sort(), [1, 2], 'one metrics event per turn');
      const ended = mine.filter((e) => e.type === 'call.ended');
      assert.equal(new Set(ended.map((e) => e.id)).size, 1);
      assert.equal(ended[0]!.type === 'call.ended' && ended[0]!.data.disposition, 'resolved');
      // Nothing doubled in the warehouse, even if Kafka delivered something twice.
      assert.equal(await warehouse.count('transcript.line'), transcript.length);
      assert.equal(await warehouse.count('call.ended'), 1);
      const again = await warehouse.load(mine);
      assert.equal(again.inserted, 0);
    } finally {
      await warehouse.close();
      await bus.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
