// One conformance suite for every EventBus adapter: the fake bus, Kafka on the real local
// broker (`switchboard infra up`), and the fallback adapter wrapping Kafka, alone and behind
// a gated fake that is down (publishing and subscribing never fall through: the unit tests
// show that). Each suite run uses its own topic prefix, so runs never see each other's
// events; the Kafka topics are deleted afterwards.
import assert from 'node:assert/strict';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import {
  BoundedSeenEvents,
  dedupeById,
  EVENT_REGISTRY,
  EVENT_TYPES,
  EventCodec,
  type EventRegistry,
  TOPICS,
} from '../../providers/events';
import type { AnyBusEvent, EventType } from '../../contracts/events';
import {
  type EventBus,
  EventValidationError,
  type InvalidDelivery,
} from '../../providers/events/port';
import { KafkaEventBus } from '../../providers/events/kafka';
import { FakeEventBus } from '../../providers/events/fake';
import { FallbackEventBus } from '../../providers/events/fallback';
import type { FallbackLink } from '../../providers/fallback';
import { infraUp, kafkaBrokers } from '../../infra';
import { deleteTopicsWithPrefix, messagesOn } from '../../testing/kafka-admin';
import {
  callEvents,
  Collector,
  line,
  providerEvents,
  retryEvents,
} from '../../testing/event-fixtures';

interface Harness {
  bus: EventBus;
  /** Puts bytes on a type's topic as they are, bypassing the producer's validation. */
  produceRaw(type: EventType, key: string, value: Buffer): Promise<void>;
  /** How many messages the dead-letter topic holds. */
  deadLetters(): Promise<number>;
  close?(): Promise<void>;
}

interface Subject {
  name: string;
  setup(prefix: string): Promise<Harness>;
  teardown(prefix: string): Promise<void>;
}

const quietLog = () => {};

const SUBJECTS: Subject[] = [
  {
    name: 'fake',
    async setup(prefix) {
      const bus = new FakeEventBus({ topicPrefix: prefix });
      return {
        bus,
        produceRaw: async (type, key, value) => bus.appendRaw(bus.topicOf(type), key, value),
        deadLetters: async () => bus.deadLetters.length,
      };
    },
    async teardown() {},
  },
  {
    name: 'kafka (local broker)',
    setup: (prefix) => kafkaHarness(prefix),
    teardown: (prefix) => deleteTopicsWithPrefix(kafkaBrokers(), prefix),
  },
  {
    name: 'fallback(kafka)',
    setup: (prefix) => kafkaHarness(prefix, (kafka) => new FallbackEventBus([kafka])),
    teardown: (prefix) => deleteTopicsWithPrefix(kafkaBrokers(), prefix),
  },
  {
    name: 'fallback(gated fake, kafka)',
    setup: (prefix) =>
      kafkaHarness(prefix, (kafka) => {
        const down = new FakeEventBus({ topicPrefix: prefix });
        down.failures.failWith('unavailable');
        const gate = { skipReason: (p: string) => (p === 'fake' ? 'circuit open' : undefined) };
        return new FallbackEventBus([{ provider: 'fake', port: down }, kafka], gate);
      }),
    teardown: (prefix) => deleteTopicsWithPrefix(kafkaBrokers(), prefix),
  },
];

/** Kafka on the local broker; `wrap` puts a chain around it. */
async function kafkaHarness(
  prefix: string,
  wrap?: (kafka: FallbackLink<EventBus>) => EventBus,
): Promise<Harness> {
  await infraUp({ quiet: true });
  const kafka = new KafkaEventBus({
    brokers: kafkaBrokers(),
    topicPrefix: prefix,
    log: quietLog,
  });
  const raw = new Producer({ clientId: 'conformance-raw', bootstrapBrokers: kafkaBrokers() });
  await kafka.ensureTopics();
  return {
    bus: wrap ? wrap({ provider: 'kafka', port: kafka }) : kafka,
    produceRaw: async (type, key, value) => {
      await raw.send({
        messages: [{ topic: kafka.topicOf(type), key: Buffer.from(key), value }],
        acks: ProduceAcks.ALL,
      });
    },
    deadLetters: () => messagesOn(kafkaBrokers(), kafka.deadLetterTopic),
    close: () => raw.close(),
  };
}

/** Events grouped by `<call>|<type>`, in arrival order, as ids. */
function byCallAndType(events: AnyBusEvent[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const e of events) {
    const k = `${e.call_id}|${e.type}`;
    groups.set(k, [...(groups.get(k) ?? []), e.id]);
  }
  return groups;
}

for (const subject of SUBJECTS) {
  describe(`EventBus conformance: ${subject.name}`, function () {
    this.timeout(120_000);
    const prefix = `test-${process.pid}-${subject.name.replace(/[^A-Za-z0-9]+/g, '-')}.`;
    let h: Harness;
    let groupN = 0;
    const group = () => `${prefix}group-${++groupN}`;
    const subs: { close(): Promise<void> }[] = [];
    const subscribe: EventBus['subscribe'] = async (opts) => {
      const sub = await h.bus.subscribe(opts);
      subs.push(sub);
      return sub;
    };

    before(async () => {
      h = await subject.setup(prefix);
    });
    afterEach(async () => {
      await Promise.all(subs.splice(0).map((s) => s.close()));
    });
    after(async () => {
      await h?.bus.close();
      await h?.close?.();
      await subject.teardown(prefix);
    });

    it('delivers exactly the published events, each call in order per type', async () => {
      const calls = ['CAconf1', 'CAconf2', 'CAconf3'];
      const perCall = calls.map((c) => callEvents(c, 4));
      // Interleave the calls' events as concurrent calls would publish them.
      const published: AnyBusEvent[] = [];
      for (let i = 0; i < Math.max(...perCall.map((p) => p.length)); i++) {
        const batch = perCall.flatMap((p) => (p[i] ? [p[i]!] : []));
        published.push(...(await h.bus.publish(batch)));
      }
      assert.equal(published.length, perCall.flat().length);
      assert.equal(published[0]!.id, 'call-CAconf1:transcript.line:0');
      assert.equal(published[0]!.schema_version, 1);

      const got = new Collector();
      await subscribe({ groupId: group(), handlers: got.handlers(EVENT_TYPES) });
      await got.until('every event', () => got.received.length >= published.length);
      assert.deepEqual(
        byCallAndType(got.received.map((r) => r.event)),
        byCallAndType(published),
        'per call and type: the same ids in the same order',
      );
      assert.deepEqual(
        got.received.map((r) => r.event).sort((a, b) => a.id.localeCompare(b.id)),
        [...published].sort((a, b) => a.id.localeCompare(b.id)),
        'the events arrive as published, field for field',
      );
      // Each type on its own topic; one call's events of a type on one partition.
      for (const { event, delivery } of got.received) {
        assert.equal(delivery.topic, `${prefix}${TOPICS[event.type]}`);
      }
      const partitions = new Map<string, Set<number>>();
      for (const { event, delivery } of got.received) {
        const k = `${event.call_id}|${event.type}`;
        partitions.set(k, (partitions.get(k) ?? new Set()).add(delivery.partition));
      }
      for (const [k, set] of partitions) assert.equal(set.size, 1, `${k} spans partitions`);
    });

    it('a subscriber gets only the types it handles', async () => {
      await h.bus.publish(callEvents('CAtypes', 2));
      const got = new Collector();
      await subscribe({ groupId: group(), handlers: { 'call.ended': got.handle } });
      await got.until('the call.ended event', () =>
        got.received.some((r) => r.event.call_id === 'CAtypes'),
      );
      assert.ok(got.received.every((r) => r.event.type === 'call.ended'));
    });

    it('publish refuses a malformed event with a clear error and sends none of the batch', async () => {
      const good = line('CAbad', 0);
      const bad = { ...line('CAbad', 1), data: { turn_id: 1, speaker: 'robot', text: 7 } };
      const err = await h.bus.publish([good, bad as never]).then(
        () => assert.fail('publish accepted a malformed event'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof EventValidationError, String(err));
      assert.match(err.message, /call-CAbad:transcript\.line:1/);
      assert.match(err.message, /\/data\/speaker must be one of caller, agent/);
      assert.match(err.message, /\/data\/text must be string/);
      const card = line('CAbad', 2, 'my card is 4111 1111 1111 1111');
      await assert.rejects(h.bus.publish([card]), /card number: redact it/);
      await assert.rejects(
        h.bus.publish([{ ...line('CAbad', 3), occurred_at: 'yesterday' }]),
        /\/occurred_at must match pattern/,
      );

      await h.bus.publish([line('CAbad', 4)]);
      const got = new Collector();
      await subscribe({ groupId: group(), handlers: { 'transcript.line': got.handle } });
      await got.until('line 4', () => got.ids().includes('call-CAbad:transcript.line:4'));
      assert.deepEqual(
        got.ids().filter((id) => id.startsWith('call-CAbad:')),
        ['call-CAbad:transcript.line:4'],
        'nothing of a refused batch was sent',
      );
    });

    it('a consumer dead-letters messages that are not valid events and goes on', async () => {
      const valid = (await h.bus.publish([line('CAdlq', 0)]))[0]!;
      const wire = (e: object) => Buffer.from(JSON.stringify(e));
      await h.produceRaw('transcript.line', 'CAdlq', Buffer.from('{not json'));
      await h.produceRaw('transcript.line', 'CAdlq', wire({ ...valid, seq: 1, data: {} }));
      await h.produceRaw('transcript.line', 'CAdlq', wire({ ...valid, schema_version: 9 }));
      await h.produceRaw('transcript.line', 'CAdlq', wire({ ...valid, type: 'call.ended' }));
      await h.produceRaw('transcript.line', 'CAother', wire(valid)); // key ≠ call_id
      await h.bus.publish([line('CAdlq', 5)]);

      const got = new Collector();
      const invalid: InvalidDelivery[] = [];
      await subscribe({
        groupId: group(),
        handlers: { 'transcript.line': got.handle },
        onInvalid: (i) => invalid.push(i),
      });
      await got.until(
        'line 5 and five invalid messages',
        () => got.ids().includes('call-CAdlq:transcript.line:5') && invalid.length >= 5,
      );
      assert.deepEqual(
        got.ids().filter((id) => id.startsWith('call-CAdlq:')),
        ['call-CAdlq:transcript.line:0', 'call-CAdlq:transcript.line:5'],
      );
      // CAother is on another partition: its place among the others is not fixed.
      const other = invalid.findIndex((i) => i.key === 'CAother');
      assert.match(invalid[other]?.error.message ?? '', /message key CAother is not its call_id/);
      const reasons = invalid.filter((_, i) => i !== other).map((i) => i.error.message);
      assert.equal(reasons.length, 4, reasons.join('\n'));
      assert.match(reasons[0]!, /not JSON/);
      assert.match(reasons[1]!, /invalid transcript\.line v1 event .*: \/data must have required/);
      assert.match(reasons[2]!, /schema_version 9 of transcript\.line is newer .* upgrade/);
      assert.match(reasons[3]!, /is a call\.ended event on the transcript\.line topic/);
      assert.ok(invalid.every((i) => i.value && i.topic.endsWith('transcripts')));
      assert.equal(await h.deadLetters(), 5, 'each invalid message dead-lettered once');
    });

    it('a repeated publish is delivered twice and dedupeById handles it once', async () => {
      const drafts = callEvents('CAdup', 2);
      const first = await h.bus.publish(drafts);
      const again = await h.bus.publish(drafts); // an activity retried after a lost ack
      assert.deepEqual(
        again.map((e) => e.id),
        first.map((e) => e.id),
        'deterministic ids',
      );
      const raw = new Collector();
      const once = new Collector();
      const dupes: string[] = [];
      await subscribe({ groupId: group(), handlers: raw.handlers(EVENT_TYPES) });
      await subscribe({
        groupId: group(),
        handlers: dedupeById(once.handlers(EVENT_TYPES), new BoundedSeenEvents(), (e) =>
          dupes.push(e.id),
        ),
      });
      const mine = (c: Collector) =>
        c.received.filter((r) => r.event.call_id === 'CAdup').map((r) => r.event.id);
      await raw.until('both copies', () => mine(raw).length >= 2 * first.length);
      await once.until('every duplicate seen', () => dupes.length >= first.length);
      assert.equal(mine(raw).length, 2 * first.length);
      assert.deepEqual(mine(once).sort(), first.map((e) => e.id).sort());
    });

    it('a failing handler gets the same event again; the offset moves only after success', async () => {
      await h.bus.publish([line('CAretry', 0), line('CAretry', 1)]);
      const attempts: string[] = [];
      const got = new Collector();
      await subscribe({
        groupId: group(),
        handlers: {
          'transcript.line': async (event, delivery) => {
            if (event.call_id !== 'CAretry') return;
            attempts.push(event.id);
            if (event.seq === 0 && attempts.length === 1) throw new Error('warehouse is down');
            await got.handle(event, delivery);
          },
        },
      });
      await got.until('both lines', () => got.received.length >= 2);
      assert.deepEqual(attempts, [
        'call-CAretry:transcript.line:0',
        'call-CAretry:transcript.line:0',
        'call-CAretry:transcript.line:1',
      ]);
    });

    it('a restarted consumer resumes after the last committed event', async () => {
      const groupId = group();
      const drafts = Array.from({ length: 12 }, (_, i) => line('CArestart', i));
      const ids = (c: Collector) => c.ids().filter((id) => id.startsWith('call-CArestart:'));
      await h.bus.publish(drafts.slice(0, 6));
      const first = new Collector();
      const sub = await h.bus.subscribe({
        groupId,
        handlers: { 'transcript.line': first.handle },
      });
      await first.until('six lines', () => ids(first).length >= 6);
      await sub.close();
      await h.bus.publish(drafts.slice(6));
      const second = new Collector();
      await subscribe({ groupId, handlers: { 'transcript.line': second.handle } });
      await second.until('six more', () => ids(second).length >= 6);
      assert.deepEqual(
        ids(first),
        drafts.slice(0, 6).map((d) => `call-CArestart:transcript.line:${d.seq}`),
      );
      assert.deepEqual(
        ids(second),
        drafts.slice(6).map((d) => `call-CArestart:transcript.line:${d.seq}`),
      );
    });

    describe('in batches', () => {
      const batchesOf = async (
        callId: string,
        opts: Partial<Parameters<EventBus['subscribeBatches']>[0]> & { groupId: string },
        until: (ids: string[]) => boolean,
        onBatch: (ids: string[]) => void = () => {},
      ) => {
        const batches: string[][] = [];
        const ids = () => batches.flat();
        const sub = await h.bus.subscribeBatches({
          types: ['transcript.line'],
          ...opts,
          handleBatch: async (events) => {
            const mine = events.filter((e) => e.call_id === callId).map((e) => e.id);
            if (mine.length) onBatch(mine); // may throw: the batch comes again
            if (mine.length) batches.push(mine);
            if (events.some((e) => e.type !== 'transcript.line')) batches.push(['other type']);
          },
        });
        subs.push(sub);
        const deadline = Date.now() + 60_000;
        while (!until(ids())) {
          assert.ok(Date.now() < deadline, `got ${ids().length}: ${ids().join(' ')}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        return { batches, sub };
      };
      const lineIds = (callId: string, from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => `call-${callId}:transcript.line:${from + i}`);

      it('every event once, in order, at most maxBatch at a time, only the types asked for', async () => {
        await h.bus.publish([
          ...Array.from({ length: 23 }, (_, i) => line('CAbatch', i)),
          ...callEvents('CAbatch', 1).filter((d) => d.type !== 'transcript.line'),
        ]);
        const { batches } = await batchesOf(
          'CAbatch',
          { groupId: group(), maxBatch: 5 },
          (ids) => ids.length >= 23,
        );
        assert.deepEqual(batches.flat(), lineIds('CAbatch', 0, 23));
        assert.ok(
          batches.every((b) => b.length <= 5),
          batches.map((b) => b.length).join(','),
        );
      });

      it('a failing batch comes again whole; a restarted group resumes after the last one', async () => {
        const groupId = group();
        await h.bus.publish(Array.from({ length: 8 }, (_, i) => line('CAbatchretry', i)));
        const attempts: string[][] = [];
        const first = await batchesOf(
          'CAbatchretry',
          { groupId, maxBatch: 4 },
          (ids) => ids.length >= 8,
          (ids) => {
            attempts.push(ids);
            if (attempts.length === 1) throw new Error('warehouse is down');
          },
        );
        assert.deepEqual(attempts[0], attempts[1], 'the same batch again');
        assert.deepEqual(first.batches.flat(), lineIds('CAbatchretry', 0, 8));
        await first.sub.close();

        await h.bus.publish(Array.from({ length: 3 }, (_, i) => line('CAbatchretry', 8 + i)));
        const second = await batchesOf('CAbatchretry', { groupId }, (ids) => ids.length >= 3);
        assert.deepEqual(second.batches.flat(), lineIds('CAbatchretry', 8, 11));
      });

      it('invalid messages are dead-lettered, the valid ones of the batch handled', async () => {
        await h.bus.publish([line('CAbatchdlq', 0)]);
        await h.produceRaw('transcript.line', 'CAbatchdlq', Buffer.from('{not json'));
        await h.bus.publish([line('CAbatchdlq', 2)]);
        const invalid: InvalidDelivery[] = [];
        const { batches } = await batchesOf(
          'CAbatchdlq',
          { groupId: group(), onInvalid: (i) => invalid.push(i) },
          (ids) => ids.length >= 2,
        );
        assert.deepEqual(batches.flat(), [
          'call-CAbatchdlq:transcript.line:0',
          'call-CAbatchdlq:transcript.line:2',
        ]);
        assert.ok(invalid.some((i) => i.key === 'CAbatchdlq' && /not JSON/.test(i.error.message)));
      });
    });

    it('a new group that starts from now skips the backlog', async () => {
      await h.bus.publish([line('CAlate', 0)]);
      const got = new Collector();
      await subscribe({
        groupId: group(),
        handlers: { 'transcript.line': got.handle },
        fromBeginning: false,
      });
      // Kafka fixes "now" at the group's first fetch, a moment after subscribe resolves:
      // publish until the group sees one.
      for (let seq = 1; got.received.length === 0; seq++) {
        assert.ok(seq < 60, 'the group never saw a new line');
        await h.bus.publish([line('CAlate', seq)]);
        await got.until('a new line', () => got.received.length > 0, 1_000).catch(() => {});
      }
      assert.ok(!got.ids().includes('call-CAlate:transcript.line:0'));
    });
  });
}

describe('event schemas and versions', () => {
  const codec = new EventCodec();
  const wire = (e: object) => Buffer.from(JSON.stringify(e));

  it('every type has a v1 schema with the same envelope, and the fixtures validate', () => {
    const envelopes = EVENT_TYPES.map((t) => {
      const schema = EVENT_REGISTRY[t].schemas[1] as {
        properties: Record<string, unknown>;
        required: string[];
      };
      const { type, data, ...rest } = schema.properties;
      assert.deepEqual(type, { const: t });
      assert.ok(data);
      return JSON.stringify({ rest, required: schema.required });
    });
    assert.equal(new Set(envelopes).size, 1, 'the envelope differs between schema files');
    const built = [...callEvents('CAschema', 2), ...providerEvents(), ...retryEvents('CAschema')].map((d) => codec.build(d)); // prettier-ignore
    assert.deepEqual([...new Set(built.map((e) => e.type))].sort(), [...EVENT_TYPES].sort());
    for (const e of built) assert.deepEqual(codec.decode(codec.encode(e)), e);
  });

  it('a consumer accepts the current and the previous version, lifting the previous one', () => {
    // transcript.line as it would be after a v2 that adds `language`.
    const v1 = EVENT_REGISTRY['transcript.line'].schemas[1] as {
      properties: { data: { properties: object } };
    };
    const v2 = structuredClone(v1) as typeof v1 & { properties: Record<string, unknown> };
    v2.properties.schema_version = { const: 2 };
    v2.properties.data.properties = {
      ...v2.properties.data.properties,
      language: { type: 'string' },
    };
    (v2 as { $id?: string }).$id = 'test:transcript.line.v2';
    const upcastV2 = (e: Record<string, unknown>) => ({
      ...e,
      data: { ...(e.data as object), language: 'en' },
    });
    const withV2 = (produce?: number): EventRegistry => ({
      ...EVENT_REGISTRY,
      'transcript.line': { schemas: { 1: v1, 2: v2 }, upcasters: { 2: upcastV2 }, produce },
    });
    const consumer = new EventCodec(withV2());
    const oldEvent = codec.build(line('CAver', 0));
    const lifted = consumer.decode(wire(oldEvent));
    assert.equal(lifted.schema_version, 2);
    assert.deepEqual(lifted.data, { ...oldEvent.data, language: 'en' });
    // While pinned, producers of the new release still write v1 (old consumers read it).
    assert.equal(new EventCodec(withV2(1)).build(line('CAver', 1)).schema_version, 1);
    assert.equal(consumer.build(line('CAver', 2)).schema_version, 2);
    // The release before reads v1 only and says why it cannot read v2.
    assert.throws(
      () => codec.decode(wire(consumer.build(line('CAver', 3)))),
      /schema_version 2 of transcript\.line is newer than this consumer knows: upgrade the consumer \(accepted: 1\)/,
    );
    // Two versions back is refused.
    const v3: EventRegistry = {
      ...EVENT_REGISTRY,
      'transcript.line': { schemas: { 1: v1, 2: v2, 3: { ...v2, $id: 'test:v3' } } },
    };
    assert.throws(
      () => new EventCodec(v3).decode(wire(oldEvent)),
      /schema_version 1 of transcript\.line is not accepted \(accepted: 3, 2\)/,
    );
  });

  it('ids are derived, not chosen: a forged id is refused', () => {
    const e = codec.build(line('CAid', 7));
    assert.equal(e.id, 'call-CAid:transcript.line:7');
    assert.throws(() => codec.decode(wire({ ...e, id: 'something-else' })), /id is not call-CAid/);
  });
});
