// The local Kafka broker: Apache Kafka's own jars from Maven Central (resolved by `mvn` from
// infra/kafka/pom.xml into the state dir, one directory per version), a KRaft single node
// (broker + controller in one JVM) on 127.0.0.1, formatted once, probed with a real
// metadata request.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { ensureDebianPackages, InstallError, run, which } from './install';
import { defaultLog, envPort, type Log, paths, repoRoot, shortPath } from './paths';
import type { ServiceInfo, ServiceSpec } from './service-spec';

export const KAFKA_VERSION = '4.4.0';
const POM = path.join(repoRoot, 'infra', 'kafka', 'pom.xml');
/** Written last into a libs dir: what was downloaded (version + pom hash), once complete. */
const COMPLETE = '.complete';
/** Node id of the single KRaft node (broker and controller are the same process). */
const NODE_ID = 1;
/** JVM heap unless KAFKA_HEAP_OPTS says otherwise (the variable Kafka's own scripts read). */
const DEFAULT_HEAP = '-Xms64m -Xmx512m';

export function kafkaEndpoint() {
  return {
    host: '127.0.0.1',
    port: envPort('KAFKA_PORT', 19092),
    controllerPort: envPort('KAFKA_CONTROLLER_PORT', 19093),
  };
}

/** `host:port` list for the Kafka clients' bootstrap brokers. */
export function kafkaBrokers(): string[] {
  const { host, port } = kafkaEndpoint();
  return [`${host}:${port}`];
}

const kafkaFiles = () => {
  const dir = paths().kafkaData;
  return {
    dir,
    logDir: path.join(dir, 'logs'),
    serverProperties: path.join(dir, 'server.properties'),
    log4j: path.join(dir, 'log4j2.properties'),
  };
};

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

// --- install ---------------------------------------------------------------------------

async function ensureTool(cmd: string, debianPackage: string, log: Log): Promise<string> {
  const found = which(cmd);
  if (found) return found;
  await ensureDebianPackages([debianPackage], log, `${cmd} (for Kafka)`);
  const installed = which(cmd);
  if (!installed) throw new InstallError(`${cmd} is still not on PATH after installing it`);
  return installed;
}

// A changed pom (another logging backend, say) must not reuse jars resolved from the old one.
function libsStamp(): string {
  const pomHash = crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
  return `kafka ${KAFKA_VERSION} pom ${pomHash.slice(0, 16)}\n`;
}

const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

function readFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Kafka 4 brokers need Java 17 or newer. */
function checkJavaVersion(java: string): void {
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const major = Number(/version "(\d+)/.exec(`${r.stderr}${r.stdout}`)?.[1]);
  if (!major || major < 17) {
    throw new InstallError(
      `Kafka ${KAFKA_VERSION} needs Java 17 or newer; ${java} is ${major || 'unknown'} ` +
        '(Debian: apt-get install openjdk-17-jre-headless, or put a newer java first on PATH)',
    );
  }
}

/**
 * The broker's jars for KAFKA_VERSION, from Maven Central (via `mvn`, which caches them in
 * ~/.m2 too); a second call finds them and returns at once. Returns the java executable
 * and the libs directory.
 */
export async function ensureKafka(log: Log = defaultLog): Promise<{ java: string; libs: string }> {
  const java = await ensureTool('java', 'openjdk-17-jre-headless', log);
  const libs = paths().kafkaLibs(KAFKA_VERSION);
  const stamp = libsStamp();
  if (readFile(path.join(libs, COMPLETE)) === stamp) return { java, libs };
  checkJavaVersion(java);
  const mvn = await ensureTool('mvn', 'maven', log);
  // Download into a scratch dir and rename: an interrupted download never looks complete.
  const tmp = `${libs}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(libs), { recursive: true });
  const started = Date.now();
  log(`downloading Kafka ${KAFKA_VERSION} jars from Maven Central into ${shortPath(libs)} …`);
  const r = await run(
    mvn,
    [
      ...['-B', '-q', '-f', POM, `-Dkafka.version=${KAFKA_VERSION}`],
      'dependency:copy-dependencies',
      ...[`-DoutputDirectory=${tmp}`, '-DincludeScope=runtime'],
    ],
    // Maven 3.8 prints bare colour resets even with -q -B: keep only lines with text.
    {
      log: (line) => {
        if (stripAnsi(line).trim()) log(stripAnsi(line));
      },
      progress: true,
      label: 'downloading Kafka jars',
    },
  );
  const jar = path.join(tmp, `kafka_2.13-${KAFKA_VERSION}.jar`);
  if (r.code !== 0 || !fs.existsSync(jar)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new InstallError(
      `cannot download Kafka ${KAFKA_VERSION} from Maven Central (mvn exit ${r.code}; ` +
        `a proxy or mirror goes in ~/.m2/settings.xml):\n${stripAnsi(r.tail).trim()}`,
    );
  }
  fs.writeFileSync(path.join(tmp, COMPLETE), stamp);
  fs.rmSync(libs, { recursive: true, force: true });
  fs.renameSync(tmp, libs);
  const count = fs.readdirSync(libs).filter((f) => f.endsWith('.jar')).length;
  log(`installed Kafka ${KAFKA_VERSION}: ${count} jars (${seconds(started)})`);
  return { java, libs };
}

// --- config and format -----------------------------------------------------------------

function serverProperties(): string {
  const { host, port, controllerPort } = kafkaEndpoint();
  const { logDir } = kafkaFiles();
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': NODE_ID,
    'controller.quorum.voters': `${NODE_ID}@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': logDir,
    // Topics are created on purpose, with their partition count (a typo must not make one).
    'auto.create.topics.enable': false,
    'num.partitions': 3,
    // One node: every internal topic has one replica; a small offsets topic starts fast.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 3,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 3,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'min.insync.replicas': 1,
    'default.replication.factor': 1,
    // A new consumer group starts at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms': 0,
    'log.retention.hours': 168,
    'log.segment.bytes': 64 * 1024 * 1024,
  };
  return (
    '# Generated by infra/kafka.ts at every start; edits are overwritten.\n' +
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') +
    '\n'
  );
}

// Console only (the service's stdout is its log file); Kafka's INFO output is a config dump
// per client, so only start/stop lines and warnings are kept.
const LOG4J = `# Generated by infra/kafka.ts.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
`;

function writeConfig(): void {
  const f = kafkaFiles();
  fs.mkdirSync(f.logDir, { recursive: true });
  fs.writeFileSync(f.serverProperties, serverProperties());
  fs.writeFileSync(f.log4j, LOG4J);
}

function jvmArgs(libs: string): string[] {
  const heap = (process.env.KAFKA_HEAP_OPTS || DEFAULT_HEAP).split(/\s+/).filter(Boolean);
  return [
    ...heap,
    // Small and quick to start: a dev broker on 2 shared cores, not a throughput rig.
    ...['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:ReservedCodeCacheSize=64m'],
    ...['-XX:MaxMetaspaceSize=160m', '-Xss512k', '-Djava.awt.headless=true'],
    `-Dlog4j2.configurationFile=${kafkaFiles().log4j}`,
    ...['-cp', `${libs}/*`],
  ];
}

/**
 * Random KRaft cluster id: 16 bytes, URL-safe base64 without padding (Kafka's Uuid). Like
 * Kafka's own, never one starting with "-": the storage tool would read it as an option.
 */
function clusterId(): string {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the KRaft log dir once (meta.properties marks it); a later call does nothing. */
export function formatKafka(java: string, libs: string, log: Log = defaultLog): void {
  writeConfig();
  const f = kafkaFiles();
  if (fs.existsSync(path.join(f.logDir, 'meta.properties'))) return;
  const id = clusterId();
  log(`formatting Kafka storage ${shortPath(f.logDir)} (KRaft, cluster ${id}) …`);
  const r = spawnSync(
    java,
    [
      ...jvmArgs(libs),
      ...['kafka.tools.StorageTool', 'format', '-t', id, '-c', f.serverProperties],
      '--ignore-formatted',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    throw new Error(`formatting Kafka storage failed:\n${(r.stderr || r.stdout).trim()}`);
  }
}

// --- service ---------------------------------------------------------------------------

export function kafkaInfo(): ServiceInfo {
  const { host, port } = kafkaEndpoint();
  return {
    name: 'kafka',
    // The config path is in the JVM's argv: tells our broker from a recycled pid.
    marker: kafkaFiles().serverProperties,
    stopSignal: 'SIGTERM', // controlled shutdown: flushes logs, leaves a clean marker
    probe: () => kafkaHealthy(host, port),
  };
}

export function kafkaSpec(java: string, libs: string): ServiceSpec {
  const { host, port, controllerPort } = kafkaEndpoint();
  return {
    ...kafkaInfo(),
    command: java,
    args: [...jvmArgs(libs), 'kafka.Kafka', kafkaFiles().serverProperties],
    ports: [
      { host, port, env: 'KAFKA_PORT', what: 'Kafka broker' },
      { host, port: controllerPort, env: 'KAFKA_CONTROLLER_PORT', what: 'Kafka controller' },
    ],
    startTimeoutMs: 90_000,
    beforeStart: writeConfig,
  };
}

/** Up = a metadata request answers and lists this broker (it registered and is unfenced). */
export async function kafkaHealthy(host: string, port: number): Promise<boolean> {
  const admin = new Admin({
    clientId: 'switchboard-infra-probe',
    bootstrapBrokers: [`${host}:${port}`],
    connectTimeout: 1_000,
    requestTimeout: 2_000,
    retries: 0,
  });
  try {
    const { brokers } = await admin.metadata({ topics: [], forceUpdate: true });
    return brokers.has(NODE_ID);
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => {});
  }
}
