// A call whose CallSid holds a Luhn-valid digit run (about one Twilio CallSid in a hundred),
// in which the caller also says a card number, through the real stack: the simulated
// caller's signed webhooks to the edge, the call and post-call workflows on a Temporal
// server of this file's own, events on the local Kafka broker, the warehouse loader into
// DuckDB. Every event of the call must land with the sid intact (a redacted call_id fails
// the event schema and the call's events are lost), the card number the caller said must
// not, and the edge's log lines name the call by its real workflow id.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { startEventLoader } from '../../analytics/load-events';
import type { AnyBusEvent } from '../../contracts/events';
import { KafkaEventBus } from '../../providers/events/kafka';
import { DuckDbWarehouse } from '../../providers/warehouse/duckdb';
import { luhnValid, pinoRedaction } from '../../conversation/safety/redact';
import { kafkaBrokers } from '../../infra';
import { createEphemeralDevServer } from '../../infra/ephemeral-server';
import { loadEdgeConfig, type EdgeConfig } from '../../media-edge/config';
import { buildEdgeServer } from '../../media-edge/server';
import { placeTextCall } from '../../simulator/text-call';
import { callWorkflowId, transcriptQuery } from '../../contracts/call';
import { postCallWorkflowId } from '../../contracts/post-call';
import { ADA, postCallResult } from '../../testing/calls';
import {
  startCallAndPostCallWorkers,
  tappedWarehouse,
  type RunningWorkers,
} from '../../testing/data-plane';
import { deleteTopicsWithPrefix } from '../../testing/kafka-admin';
import { TEST_SUGGEST_CONTINUE_AS_NEW } from '../../testing/platform';
import { linesSink } from '../../testing/log-sink';

const CARD = '4111111111111111';
const SPOKEN_CARD = 'four one one one one one one one one one one one one one one one';
/** The card in the sid's hex, glued to letters: `CAb4111111111111111d…` (CA + 32 hex). */
const callSid = () => `CAb${CARD}d${randomBytes(7).toString('hex')}`;

describe('a CallSid holding a card-like digit run, on a call where the caller says a card', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  let bus: KafkaEventBus;
  let app: FastifyInstance;
  let config: EdgeConfig;
  let edgeUrl: string;
  let workers: RunningWorkers | undefined;
  let dir: string;
  const prefix = `e2eids${randomBytes(4).toString('hex')}.`;
  const edgeLogs: string[] = [];

  before(async () => {
    // Its own server: its post-call worker takes no other test's post-call workflows.
    env = await createEphemeralDevServer({
      'limit.historyCount.suggestContinueAsNew': TEST_SUGGEST_CONTINUE_AS_NEW,
    });
    bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: prefix });
    const namespace = env.namespace ?? 'default';
    workers = await startCallAndPostCallWorkers(env, { events: bus });
    // The edge as production builds it: webhooks, logs through the redacting pino options.
    config = loadEdgeConfig({
      TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'),
      STREAM_TOKEN_SECRET: randomBytes(32).toString('hex'),
      EDGE_PUBLIC_URL: 'https://edge.switchboard.test',
      EDGE_HOST_ID: `test-${randomBytes(4).toString('hex')}`,
      EDGE_PORT: '0',
      TEMPORAL_NAMESPACE: namespace,
    });
    const sink = linesSink(edgeLogs);
    app = await buildEdgeServer({
      config,
      temporalClient: env.client,
      logger: pino({ ...pinoRedaction, name: 'media-edge', level: 'info' }, sink),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    edgeUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-ids-'));
  });

  after(async () => {
    await app?.close();
    await workers?.stop();
    await bus?.close();
    await deleteTopicsWithPrefix(kafkaBrokers(), prefix).catch(() => undefined);
    await env?.teardown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every event lands in the warehouse with the sid intact; the card said is redacted', async () => {
    const sid = callSid();
    assert.match(sid, /^CA[0-9a-f]{32}$/);
    assert.ok(luhnValid(CARD) && sid.includes(CARD), 'the sid holds a Luhn-valid run');

    const report = await placeTextCall({
      client: env.client,
      edgeUrl,
      publicUrl: config.publicUrl,
      authToken: config.twilioAuthToken,
      from: ADA,
      to: '+15550009999',
      lines: [`my card number is ${SPOKEN_CARD}`, `it is ${CARD}`, 'goodbye'],
      callSid: sid,
      print: () => undefined,
    });
    assert.equal(report.callSid, sid);
    assert.equal(report.workflowId, callWorkflowId(sid));
    const transcript = await env.client.workflow
      .getHandle(report.workflowId)
      .query(transcriptQuery);
    await postCallResult(env.client, sid);

    const warehouse = new DuckDbWarehouse({ path: path.join(dir, 'w.duckdb') });
    const { warehouse: tapped, seen } = tappedWarehouse(warehouse);
    const loader = await startEventLoader({ bus, warehouse: tapped, groupId: `${prefix}wh` });
    try {
      // Both workflows are done, so every event they published is on the broker.
      const arrived = (type: AnyBusEvent['type']) =>
        seen.some((e) => e.type === type && e.call_id === sid);
      const deadline = Date.now() + 60_000;
      while (!(arrived('call.ended') && arrived('call.analyzed'))) {
        const types = [...new Set(seen.map((e) => `${e.type} ${e.call_id}`))].join(', ');
        assert.ok(
          Date.now() < deadline,
          `the call's events did not all arrive within 60 s; seen: ${types || 'none'}`,
        );
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await loader.close();
    }

    try {
      const rows = await warehouse.all(
        `SELECT event_id, type, call_id, workflow_id, seq FROM events ORDER BY type, seq`,
      );
      assert.ok(rows.length > 0);
      // Everything in this warehouse is this call's, under its real ids.
      for (const r of rows) {
        const wf = r.type === 'call.analyzed' ? postCallWorkflowId(sid) : callWorkflowId(sid);
        assert.equal(r.call_id, sid, `${String(r.event_id)}: call_id`);
        assert.equal(r.workflow_id, wf, `${String(r.event_id)}: workflow_id`);
        assert.equal(r.event_id, `${wf}:${String(r.type)}:${String(r.seq)}`);
      }
      const count = (type: string) => rows.filter((r) => r.type === type).length;
      assert.equal(count('transcript.line'), transcript.length, 'every transcript line');
      assert.ok(count('turn.metrics') >= 1, 'turn metrics');
      assert.equal(count('call.ended'), 1);
      assert.equal(count('call.analyzed'), 1);

      // The caller's card, spoken and written, never reached an event.
      const lines = await warehouse.all(
        `SELECT speaker, text, call_id FROM transcript_lines ORDER BY seq`,
      );
      const caller = lines.filter((l) => l.speaker === 'caller').map((l) => String(l.text));
      assert.deepEqual(caller, ['my card number is [card]', 'it is [card]', 'goodbye']);
      const stored = JSON.stringify(
        await warehouse.all(`SELECT payload FROM events WHERE type <> 'turn.metrics'`),
      )
        .split(sid)
        .join('<sid>');
      assert.doesNotMatch(stored, /4111|four one one one/, 'the card outside the sid');
      const [analysis] = await warehouse.all(`SELECT call_id, summary FROM call_analytics`);
      assert.equal(analysis?.call_id, sid);

      // The edge's log lines name the call by its real ids, searchable.
      const logs = edgeLogs.join('');
      assert.ok(
        logs.includes(`"workflowId":"${callWorkflowId(sid)}"`),
        `no log line with the workflow id:\n${logs}`,
      );
      assert.ok(logs.includes(`"callSid":"${sid}"`), `no log line with the CallSid:\n${logs}`);
      assert.doesNotMatch(logs, /\[card\]/, 'an id redacted in the edge logs');
    } finally {
      await warehouse.close();
    }
  });
});
