// A consumer process for kafka-resilience.test.ts, killed with SIGKILL mid-stream. It loads
// like a warehouse loader: each handled event's id is appended to LEDGER (its durable
// "table"), which is also its SeenEvents, so a redelivery after the kill is dropped.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dedupeById, type SeenEvents } from '../../providers/events';
import { KafkaEventBus } from '../../providers/events/kafka';

const { BROKERS, PREFIX, GROUP, LEDGER, DELIVERIES, HANDLER_MS } = process.env;
if (!BROKERS || !PREFIX || !GROUP || !LEDGER || !DELIVERIES) throw new Error('env missing');

const seen = new Set(
  fs.existsSync(LEDGER) ? fs.readFileSync(LEDGER, 'utf8').split('\n').filter(Boolean) : [],
);
const ledger: SeenEvents = {
  has: (id) => seen.has(id),
  add: (id) => {
    fs.appendFileSync(LEDGER, `${id}\n`);
    seen.add(id);
  },
};

void (async () => {
  const bus = new KafkaEventBus({
    brokers: BROKERS.split(','),
    topicPrefix: PREFIX,
    log: () => {},
  });
  await bus.subscribe({
    groupId: GROUP,
    handlers: dedupeById(
      {
        'transcript.line': async () => {
          await sleep(Number(HANDLER_MS ?? 0)); // the load's work
        },
      },
      {
        has: (id) => {
          fs.appendFileSync(DELIVERIES, `${id}\n`); // every delivery, duplicates included
          return ledger.has(id);
        },
        add: (id) => ledger.add(id),
      },
    ),
  });
  process.send?.('subscribed');
})();
