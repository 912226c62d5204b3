// A Kafka broker of a test's own (scratch state dir, free ports), to stop, kill and restart
// under a running call while the shared broker keeps serving every other test.
// The infra code finds a service's state through SWITCHBOARD_HOME and KAFKA_*PORT: they are
// pointed at the scratch broker only for the length of each operation, so call these while
// nothing else in the process is starting a platform service.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../infra';
import { ensureKafka, formatKafka, kafkaSpec } from '../../infra/kafka';
import { isAlive, readPid, serviceInfo, startService, stopService } from '../../infra/services';

export interface ScratchKafka {
  brokers: string[];
  /** Starts the broker (a no-op when it is up) and waits until it is healthy. */
  start(): Promise<void>;
  /** SIGTERM and wait; false if it was not running. */
  stop(): Promise<boolean>;
  /** SIGKILL (a crashed broker) and wait until it is gone. */
  kill(): Promise<void>;
  isUp(): boolean;
  /** Stops it and removes its state. */
  close(): Promise<void>;
}

export async function startScratchKafka(): Promise<ScratchKafka> {
  const { java, libs } = await ensureKafka(() => {}); // the shared install: jars are not per state dir
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-kafka-'));
  for (const dir of ['run', 'logs', 'data']) fs.mkdirSync(path.join(home, dir));
  const env = {
    SWITCHBOARD_HOME: home,
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
  };
  /** Points the infra code at the scratch broker; returns the undo. */
  const point = (): (() => void) => {
    const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
    Object.assign(process.env, env);
    return () => {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
  };
  const within = async <T>(op: () => T | Promise<T>): Promise<T> => {
    const undo = point();
    try {
      return await op();
    } finally {
      undo();
    }
  };
  const livePid = (): number | undefined => {
    const undo = point();
    try {
      const p = readPid('kafka');
      return p !== undefined && isAlive(p) ? p : undefined;
    } finally {
      undo();
    }
  };
  const broker: ScratchKafka = {
    brokers: [`127.0.0.1:${env.KAFKA_PORT}`],
    start: () => within(async () => void (await startService(kafkaSpec(java, libs), () => {}))),
    stop: () => within(() => stopService(serviceInfo('kafka'), () => {})),
    async kill() {
      const p = livePid();
      if (p === undefined) return;
      process.kill(p, 'SIGKILL');
      while (isAlive(p)) await new Promise((r) => setTimeout(r, 20));
    },
    isUp: () => livePid() !== undefined,
    async close() {
      await broker.stop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  await within(() => formatKafka(java, libs, () => {}));
  await broker.start();
  return broker;
}
