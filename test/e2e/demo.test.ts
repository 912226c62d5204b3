// The README's first command on fresh state: `./switchboard demo` with a data directory of its
// own (no knowledge index, no databases, no warehouse, no Kafka log) and its own ports, so it
// starts a whole platform beside the one the suite runs on; only the installed tools are
// shared. It must exit 0 having placed the four text calls and the audio call, kept the
// recording and printed the day's report.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { paths } from '../../infra';
import { decodeWav } from '../../audio/wav';

const ROOT = path.join(__dirname, '..', '..');

/** Ports apart from the suite's platform (the object store takes S3 … S3 + 10008). */
const PORTS = {
  TEMPORAL_PORT: 17233,
  TEMPORAL_UI_PORT: 18233,
  HISTORY_CODEC_PORT: 18234,
  PGPORT_SWITCHBOARD: 15433,
  REDIS_PORT: 16380,
  OBJECT_STORE_PORT: 29100,
  KAFKA_PORT: 29092,
  KAFKA_CONTROLLER_PORT: 29093,
  EDGE_PORT: 18080,
};

/** What the suite's own environment may carry that would point the demo at other servers (or
 * hand it the suite's history key instead of the one it must make itself). */
const INHERITED =
  /^(TEMPORAL_|DATABASE_URL|REDIS_URL|S3_|EDGE_|KAFKA_|PG|OBJECT_STORE|VECTOR_|LLM_|PAYLOAD_|HISTORY_)/;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(path.join(ROOT, 'switchboard'), args, { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => {
      out += `\n[test] killed after ${timeoutMs / 1000} s`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('the demo command on fresh state', function () {
  this.timeout(25 * 60_000);
  let home: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'switchboard-demo-'));
    await chmod(home, 0o755); // PostgreSQL runs as its own user and must reach its data dir
    const busy = [];
    for (const [name, port] of Object.entries(PORTS))
      if (!(await portFree(port))) busy.push(`${name}=${port}`);
    assert.deepEqual(busy, [], 'the demo platform needs these ports free');
    const inherited = Object.entries(process.env).filter(([k]) => !INHERITED.test(k));
    env = {
      ...Object.fromEntries(inherited),
      ...Object.fromEntries(Object.entries(PORTS).map(([k, v]) => [k, String(v)])),
      SWITCHBOARD_HOME: home,
      SWITCHBOARD_TOOLS: paths().tools,
    };
  });

  after(async () => {
    const down = await run(['infra', 'down'], env, 120_000);
    if (down.code !== 0) console.log(down.out);
    await rm(home, { recursive: true, force: true });
  });

  it('./switchboard demo: four text calls, one audio call with its recording, the report', async () => {
    const { code, out } = await run(['demo'], env, 20 * 60_000);
    const fail = (why: string) => `${why}\n--- demo output ---\n${out}`;
    assert.equal(code, 0, fail('the demo exited non-zero'));
    assert.match(out, /building it from/, fail('the fresh demo built the knowledge index'));
    assert.doesNotMatch(out, /did not stop within/, fail('every app stopped by itself'));

    // Four text-level calls, each ended with a CRM call log and labelled as orchestration only.
    const ended = [...out.matchAll(/\[call\] ended: (\w+) after \d+ turns, CRM call log #\d+/g)];
    assert.deepEqual(
      ended.map((m) => m[1]),
      ['resolved', 'resolved', 'transferred', 'resolved'],
      fail('the text calls'),
    );
    assert.equal(out.match(/text-level: no audio/g)?.length, 4, fail('text calls labelled'));

    // The audio call: voice to voice per turn, the payment made, the recording kept.
    const v2v = /voice-to-voice: ((?:\d+ ms(?:, )?)+);/.exec(out);
    assert.ok(v2v, fail('voice-to-voice figures'));
    assert.ok(v2v[1]!.split(', ').length >= 3, fail('a figure per answered turn'));
    assert.match(out, /agent : Your payment of 42 dollars and 50 cents is complete/, fail('paid'));
    const copied = /recording copied to (\S+\.wav)/.exec(out);
    assert.ok(copied, fail('the recording copied out of the object store'));
    const wav = decodeWav(await readFile(path.resolve(ROOT, copied[1]!)));
    assert.equal(wav.channels.length, 2, 'caller left, agent right');
    assert.ok(wav.channels[0]!.length / wav.sampleRate > 5, 'the whole call is in it');

    // Its events went to its own broker, not the suite's. Lines are keyed by call, so any of
    // the topic's partitions may hold them.
    const kafkaLogs = path.join(home, 'data', 'kafka', 'logs');
    const partitions = (await readdir(kafkaLogs)).filter((d) =>
      /^switchboard\.transcripts-\d+$/.test(d),
    );
    let bytes = 0;
    for (const dir of partitions)
      for (const f of await readdir(path.join(kafkaLogs, dir)))
        if (f.endsWith('.log')) bytes += (await stat(path.join(kafkaLogs, dir, f))).size;
    assert.ok(partitions.length > 0, 'the transcripts topic exists on the demo broker');
    assert.ok(bytes > 0, 'the transcripts are on the demo broker');

    // The day's report from the warehouse, fed through Kafka.
    assert.match(out, /Latency chart: \S+\.png/, fail("the day's report"));
    assert.match(out, /Calls: 5\b/, fail('the report counts the five calls'));
  });
});
