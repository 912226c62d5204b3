// Per-turn orchestration overhead: how long the edge waits between sending a final
// utterance (one update) and having the reply, when every provider is instantaneous
// (rules classifier, in-memory CRM/billing), over many turns of concurrent calls on a
// real Temporal dev server. The baseline, measured in the same run, is the same turn
// logic called in-process without Temporal (understandTurn → step() → step()).
// Speed is reported here, never asserted in timed tests.
//
// The worker runs in a child process (bench/orchestration-worker.ts), as in production:
// this process is the edge's side, a Temporal client sending updates.
//
// Phases: warm-up (not counted) → one call alone (the unloaded per-turn cost, split at
// the two provider calls) → the measured concurrent calls (latency, throughput, CPU per
// turn of the client, the worker and the dev server) → histories of two of those calls
// (events and workflow-task timings per turn) → the in-process baseline.
import { execFile, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { createCallActivities } from '../activities/call-activities';
import { DEMO_CUSTOMERS } from '../providers/postgres/schema';
import { ensureTemporalBinaries } from '../infra';
import { repoRoot } from '../infra/paths';
import { createEphemeralDevServer } from '../infra/ephemeral-server';
import { CallBridge } from '../media-edge/call/bridge';
import { workflowsPath } from '../workers/workflow-code';
import { quietBundleLogger } from '../workers/logging';
import { identifiedEvent, initialCallState, step, type CallState } from '../workflows/call-state';
import {
  CALL_TASK_QUEUE,
  callWorkflowId,
  DEFAULT_CALL_CONFIG,
  type CallInput,
  type Reply,
} from '../contracts/call';
import {
  memoryDeps,
  type ProviderMarkTimes,
  type WorkerCommand,
  type WorkerReport,
} from './orchestration-worker';

export interface BenchOptions {
  /** Calls placed in the measured phase. */
  calls: number;
  /** Timed turns per call (each call then says goodbye, untimed). */
  turnsPerCall: number;
  /** Calls in flight at once; default: all of them. */
  concurrency?: number;
  /** Directory for the JSON results; default bench/results. */
  out?: string;
  /** Warm-up calls before the measured phase (not counted); default 3, of 10 turns each. */
  warmupCalls?: number;
  /**
   * Pause between a reply and the call's next utterance (the caller listening and
   * speaking), not timed; calls start staggered over one pause. Default 0: turns back
   * to back, so the run measures the latency at saturation.
   */
  thinkMs?: number;
  /** Progress and table lines; default console.log. */
  log?: (line: string) => void;
}

export interface LatencyStats {
  turns: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  /** Timed turns divided by the wall time from the first turn's start to the last one's end. */
  turnsPerSec: number;
  wallMs: number;
}

export interface TurnBreakdown {
  /**
   * One call alone (no queueing), split by the provider calls the worker made: from
   * sending the update to classify() starting (update admission, workflow task dispatch,
   * activation); classify() end to getBalance() start (inside the one understandTurn
   * local activity); getBalance() end to the reply (the local activity's result back into
   * the workflow, activation, workflow task completion, persistence, update response).
   */
  singleCallPhasesMs: {
    toFirstActivity: { p50: number; mean: number };
    betweenActivities: { p50: number; mean: number };
    afterLastActivity: { p50: number; mean: number };
  };
  /** CPU time per turn in the measured concurrent phase. */
  cpuPerTurnMs: {
    /** The client (this process) + the worker process (`client` + `worker` where both are read). */
    benchProcess: number;
    /** This process: the edge's Temporal client sending the updates, GC. */
    client?: number;
    /** The worker process (Linux /proc): Rust core, workflow thread, activities, GC. */
    worker?: number;
    /** The dev server process (Linux /proc); absent where it cannot be read. */
    devServer?: number;
    /** Turns per second this CPU cost allows on this machine's cores, if nothing else ran. */
    cpuBoundTurnsPerSec?: number;
  };
  /** Calls whose histories were read. */
  callsSampled: number;
  turnsSampled: number;
  /** Mean history events per timed turn, by event type (EVENT_TYPE_ prefix dropped). */
  eventsPerTurn: Record<string, number>;
  totalEventsPerTurn: number;
  workflowTasksPerTurn: number;
  localActivityMarkersPerTurn: number;
  /** WorkflowTaskScheduled → Started: the server handing the task to the worker's poll. */
  wftScheduleToStartMs: { mean: number; p95: number };
  /** WorkflowTaskStarted → Completed: activation incl. local activities, plus the completion RPC. */
  wftStartToCompleteMs: { mean: number; p95: number };
  /** The turn's WorkflowTaskScheduled → its UpdateCompleted: the turn as the server saw it. */
  serverTurnMs: { mean: number; p95: number };
  /** Client-measured mean turn minus the server's view: admission and the two RPC legs. */
  outsideServerTurnMs: number;
  /** A plain unary RPC (DescribeWorkflowExecution) from this client: network + frontend floor. */
  rpcFloorMs: { p50: number; p95: number };
}

export interface BenchResult {
  benchmark: 'orchestration';
  startedAt: string;
  tookMs: number;
  options: {
    calls: number;
    turnsPerCall: number;
    concurrency: number;
    warmupCalls: number;
    thinkMs: number;
  };
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemMb: number;
    platform: string;
    node: string;
    temporalCli: string;
    /** 1-minute load average before and after: other work on the machine skews the figures. */
    loadAvg: { before: number; after: number };
  };
  /** The measured concurrent calls through Temporal. */
  temporal: LatencyStats;
  /** One call alone through Temporal: the per-turn cost without queueing. */
  temporalSingleCall: LatencyStats;
  /** The same turns in-process, without Temporal. */
  inProcess: LatencyStats;
  /** Temporal (concurrent) / in-process, per statistic (turnsPerSec only means something without thinkMs). */
  ratio: { p50: number; p95: number; p99: number; mean: number; turnsPerSec: number };
  /**
   * The orchestration targets: one call alone p50, and the concurrent calls' p95 when callers
   * pause between turns (at saturation queueing sets the latency: no target).
   */
  target: {
    singleCallP50Ms: number;
    singleCallMet: boolean;
    pacedP95Ms?: number;
    pacedMet?: boolean;
  };
  breakdown: TurnBreakdown;
  files: { json: string; latest: string };
}

const TARGET_SINGLE_P50_MS = 15;
const TARGET_PACED_P95_MS = 20;
const CALLER = DEMO_CUSTOMERS[0]!; // Ada: one open invoice, a known balance
/** Both classify as check_balance → fetch_balance → spoken balance: a deterministic turn. */
const TEXTS = ["what's my balance", 'how much do I owe'];
const WARMUP_TURNS = 10;
const SINGLE_CALL_TURNS = 60;
const HISTORY_SAMPLES = 2;

export async function runOrchestrationBench(opts: BenchOptions): Promise<BenchResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const calls = positiveInt('calls', opts.calls);
  const turnsPerCall = positiveInt('turnsPerCall', opts.turnsPerCall);
  const concurrency = Math.min(calls, positiveInt('concurrency', opts.concurrency ?? calls));
  const warmupCalls = opts.warmupCalls ?? 3;
  const thinkMs = opts.thinkMs ?? 0;
  if (!Number.isSafeInteger(warmupCalls) || warmupCalls < 0)
    throw new Error(`warmupCalls must be a non-negative integer, not ${warmupCalls}`);
  if (!Number.isFinite(thinkMs) || thinkMs < 0)
    throw new Error(`thinkMs must be a non-negative number, not ${thinkMs}`);
  const outDir = path.resolve(opts.out ?? path.join(repoRoot, 'bench', 'results'));
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = os.loadavg()[0]!;

  quietRuntime();
  const { temporal: temporalExe } = await ensureTemporalBinaries((line) => log(`[infra] ${line}`));
  const temporalCli = await cliVersion(temporalExe);

  log(
    `orchestration bench: ${calls} calls × ${turnsPerCall} turns, concurrency ${concurrency}` +
      `${thinkMs ? `, ${thinkMs} ms between turns` : ''}; ${os.cpus().length} cpus, node ` +
      `${process.version}, ${temporalCli.split('\n')[0]}`,
  );
  if (loadBefore > os.cpus().length / 2)
    log(`note: load average is ${loadBefore.toFixed(1)} before the run; other work skews it`);
  log('bundling workflows and starting a dev server …');
  const [bundle, env] = await Promise.all([
    bundleWorkflowCode({ workflowsPath, logger: quietBundleLogger }),
    createEphemeralDevServer(),
  ]);

  let temporal: LatencyStats;
  let temporalSingleCall: LatencyStats;
  let breakdown: TurnBreakdown;
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-'));
  try {
    const serverPid = childPid('temporal');
    const bundleFile = path.join(bundleDir, 'workflow-bundle.js');
    fs.writeFileSync(bundleFile, bundle.code);
    const worker = await WorkerProcess.start(env.address, env.namespace ?? 'default', bundleFile);
    try {
      const call = (tag: string, turns: number, think = 0, offset = 0) =>
        temporalCall(env.client, tag, turns, think, offset);
      if (warmupCalls > 0) {
        log(`warm-up: ${warmupCalls} calls × ${WARMUP_TURNS} turns (not counted)`);
        await runCalls(warmupCalls, warmupCalls, (i) => call(`warm${i}`, WARMUP_TURNS));
      }

      const singleTurns = Math.min(turnsPerCall, SINGLE_CALL_TURNS);
      log(`one call alone: ${singleTurns} turns …`);
      worker.send({ cmd: 'marks-start' });
      const single = await call('single', singleTurns);
      const phases = providerPhases(await worker.marks(), single.turns);
      temporalSingleCall = stats(single.turns);

      log(`measuring: ${calls * turnsPerCall} turns of ${calls} calls through Temporal …`);
      const cpu0 = process.cpuUsage();
      const server0 = serverPid === undefined ? undefined : processCpuMs(serverPid);
      const worker0 = processCpuMs(worker.pid);
      const measured = await runCalls(calls, concurrency, (i) =>
        call(`run${i}`, turnsPerCall, thinkMs, ((i % concurrency) * thinkMs) / concurrency),
      );
      const cpu = process.cpuUsage(cpu0);
      const server1 = serverPid === undefined ? undefined : processCpuMs(serverPid);
      const worker1 = processCpuMs(worker.pid);
      temporal = stats(measured.flatMap((c) => c.turns));

      const turns = temporal.turns;
      const client = (cpu.user + cpu.system) / 1000 / turns;
      const workerCpu =
        worker0 !== undefined && worker1 !== undefined ? (worker1 - worker0) / turns : undefined;
      const benchProcess = client + (workerCpu ?? 0);
      const devServer =
        server0 !== undefined && server1 !== undefined ? (server1 - server0) / turns : undefined;
      const cpuPerTurnMs = {
        benchProcess: round(benchProcess),
        client: round(client),
        ...(workerCpu !== undefined && { worker: round(workerCpu) }),
        ...(devServer !== undefined && {
          devServer: round(devServer),
          cpuBoundTurnsPerSec: round((os.cpus().length * 1000) / (benchProcess + devServer), 0),
        }),
      };
      breakdown = {
        singleCallPhasesMs: phases,
        cpuPerTurnMs,
        ...(await historyBreakdown(
          measured.slice(0, HISTORY_SAMPLES).flatMap((c) => (c.handle ? [c.handle] : [])),
          turnsPerCall,
          temporal.meanMs,
        )),
      };
    } finally {
      await worker.stop();
    }
  } finally {
    fs.rmSync(bundleDir, { recursive: true, force: true });
    await env.teardown();
  }

  log(`measuring: ${calls * turnsPerCall} turns in-process …`);
  const turnInProcess = inProcessTurns();
  await runCalls(Math.max(warmupCalls, 1), 1, () => turnInProcess(200)); // JIT warm-up
  const inProcess = stats(
    (await runCalls(calls, concurrency, () => turnInProcess(turnsPerCall))).flatMap((c) => c.turns),
  );

  const ratio = {
    p50: round(temporal.p50Ms / inProcess.p50Ms, 1),
    p95: round(temporal.p95Ms / inProcess.p95Ms, 1),
    p99: round(temporal.p99Ms / inProcess.p99Ms, 1),
    mean: round(temporal.meanMs / inProcess.meanMs, 1),
    turnsPerSec: round(temporal.turnsPerSec / inProcess.turnsPerSec, 6),
  };
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const files = {
    json: path.join(outDir, `orchestration-${stamp}.json`),
    latest: path.join(outDir, 'latest.json'),
  };
  const result: BenchResult = {
    benchmark: 'orchestration',
    startedAt: startedAt.toISOString(),
    tookMs: Math.round(performance.now() - t0),
    options: { calls, turnsPerCall, concurrency, warmupCalls, thinkMs },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemMb: Math.round(os.totalmem() / 2 ** 20),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
      temporalCli,
      loadAvg: { before: round(loadBefore), after: round(os.loadavg()[0]!) },
    },
    temporal,
    temporalSingleCall,
    inProcess,
    ratio,
    target: {
      singleCallP50Ms: TARGET_SINGLE_P50_MS,
      singleCallMet: temporalSingleCall.p50Ms <= TARGET_SINGLE_P50_MS,
      ...(thinkMs > 0 && {
        pacedP95Ms: TARGET_PACED_P95_MS,
        pacedMet: temporal.p95Ms <= TARGET_PACED_P95_MS,
      }),
    },
    breakdown,
    files,
  };
  const json = JSON.stringify(result, null, 2) + '\n';
  fs.writeFileSync(files.json, json);
  fs.writeFileSync(files.latest, json);
  for (const line of formatReport(result)) log(line);
  return result;
}

// --- the two ways to run a turn ----------------------------------------------------------

interface CallRun {
  turns: Timed[];
  handle?: WorkflowHandle;
}
interface Timed {
  start: number;
  ms: number;
}

async function temporalCall(
  client: Client,
  tag: string,
  turns: number,
  thinkMs: number,
  /** Untimed pause before the first turn, so paced calls do not all speak at once. */
  offsetMs: number,
): Promise<CallRun> {
  const callSid = `CAbench${tag}${process.pid}${Date.now().toString(36)}`;
  const input: CallInput = { callSid, from: CALLER.phone, to: '+15550009999' };
  const handle = await client.workflow.start('callWorkflow', {
    taskQueue: CALL_TASK_QUEUE,
    workflowId: callWorkflowId(callSid),
    args: [input],
  });
  const bridge = new CallBridge(client, callSid);
  await bridge.streamStarted();
  const timed: Timed[] = [];
  if (offsetMs > 0) await sleep(offsetMs);
  for (let t = 0; t < turns; t++) {
    if (thinkMs > 0 && t > 0) await sleep(thinkMs);
    const start = performance.now();
    const reply = await bridge.utterance(TEXTS[t % TEXTS.length]!);
    timed.push({ start, ms: performance.now() - start });
    checkReply(reply);
  }
  await bridge.utterance('goodbye');
  await handle.result();
  return { turns: timed, handle };
}

/** The workflow's turn without Temporal: the same activities, adapters and state machine. */
function inProcessTurns(): (turns: number) => Promise<CallRun> {
  const acts = createCallActivities(memoryDeps());
  const threshold = DEFAULT_CALL_CONFIG.confidenceThreshold;
  return async (turns) => {
    let state: CallState = step(
      initialCallState(),
      identifiedEvent(await acts.identifyCaller(CALLER.phone)),
    ).state;
    const timed: Timed[] = [];
    for (let t = 0; t < turns; t++) {
      const start = performance.now();
      const text = TEXTS[t % TEXTS.length]!;
      const { intent, account } = await acts.understandTurn({
        text,
        customerId: state.customer?.id,
      });
      let next = step(state, { kind: 'turn', intent, asrConfidence: 1, threshold });
      while (next.effect) {
        state = next.state;
        const effect = next.effect;
        if (effect.kind !== 'fetch_balance' || !account)
          throw new Error(`unexpected effect ${effect.kind}`);
        next = step(state, { kind: 'balance', purpose: effect.purpose, ...account });
      }
      state = next.state;
      const reply: Reply = { turnId: t + 1, text: next.say ?? '', action: next.action, intent };
      timed.push({ start, ms: performance.now() - start });
      checkReply(reply);
    }
    return { turns: timed };
  };
}

function checkReply(reply: Reply): void {
  if (reply.intent?.name !== 'check_balance' || !/^Your balance is /.test(reply.text))
    throw new Error(`not the deterministic balance turn: ${JSON.stringify(reply)}`);
}

/** Runs `count` calls, at most `concurrency` at a time. */
async function runCalls(
  count: number,
  concurrency: number,
  call: (i: number) => Promise<CallRun>,
): Promise<CallRun[]> {
  const results: CallRun[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await call(i);
      }
    }),
  );
  return results;
}

/**
 * The phases of each timed turn of the one call alone, from the worker's provider-call
 * times and the client's send and receive times (the untimed goodbye's classify comes last
 * and is ignored).
 */
function providerPhases(m: ProviderMarkTimes, turns: Timed[]): TurnBreakdown['singleCallPhasesMs'] {
  const to: number[] = [];
  const between: number[] = [];
  const after: number[] = [];
  const origin = performance.timeOrigin; // client times → the worker's wall clock
  turns.forEach((t, i) => {
    const [cs, ce, bs, be] = [m.classifyStart, m.classifyEnd, m.balanceStart, m.balanceEnd].map(
      (a) => a[i],
    );
    if (cs === undefined || ce === undefined || bs === undefined || be === undefined) return;
    to.push(cs - (origin + t.start));
    between.push(bs - ce);
    after.push(origin + t.start + t.ms - be);
  });
  const summary = (v: number[]) => ({ p50: round(pct(v, 50)), mean: round(mean(v)) });
  return {
    toFirstActivity: summary(to),
    betweenActivities: summary(between),
    afterLastActivity: summary(after),
  };
}

/** The call worker in a child process (bench/orchestration-worker.ts), driven over IPC. */
class WorkerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {}

  static async start(address: string, namespace: string, bundleFile: string) {
    // Same Node and loader flags (tsx runs the .ts entry); its own event loop and heap.
    const child = fork(
      require.resolve('./orchestration-worker'),
      [address, namespace, bundleFile],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const worker = new WorkerProcess(child, child.pid!);
    await worker.next('ready');
    return worker;
  }

  send(m: WorkerCommand): void {
    this.child.send(m);
  }

  async marks(): Promise<ProviderMarkTimes> {
    const reply = this.next('marks');
    this.send({ cmd: 'marks-stop' });
    return ((await reply) as Extract<WorkerReport, { kind: 'marks' }>).marks;
  }

  /** Shuts the worker down (in-flight tasks finish) and waits for its exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ cmd: 'stop' });
    await exited;
  }

  private next(kind: WorkerReport['kind']): Promise<WorkerReport> {
    return new Promise((resolve, reject) => {
      const onMessage = (r: WorkerReport) => {
        if (r.kind === 'failed') return done(new Error(`bench worker: ${r.message}`));
        if (r.kind === kind) done(undefined, r);
      };
      const onExit = (code: number | null) => done(new Error(`bench worker exited (${code})`));
      const done = (err?: Error, r?: WorkerReport) => {
        this.child.off('message', onMessage).off('exit', onExit);
        if (err) reject(err);
        else resolve(r!);
      };
      this.child.on('message', onMessage).on('exit', onExit);
    });
  }
}

// --- platform ----------------------------------------------------------------------------

/** A fresh in-memory dev server with temporal.yaml's namespace, attributes and dynamic config. */
/** The SDK logs worker state changes at INFO; the table is what matters here. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by the caller: keep its logger.
  }
}

async function cliVersion(exe: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(exe, ['--version'], { timeout: 10_000 });
    return stdout.trim();
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

/** A child process of this one by its command name (Linux /proc); undefined elsewhere. */
function childPid(comm: string): number | undefined {
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(Number(entry));
      if (stat && stat.comm === comm && stat.fields[1] === String(process.pid))
        return Number(entry);
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** User + system CPU time of a process in ms (Linux /proc). */
function processCpuMs(pid: number): number | undefined {
  const stat = readStat(pid);
  if (!stat) return undefined;
  const ticks = Number(stat.fields[11]) + Number(stat.fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

function readStat(pid: number): { comm: string; fields: string[] } | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = raw.lastIndexOf(')');
    // fields after "(comm)": [0] state, [1] ppid, … [11] utime, [12] stime
    return {
      comm: raw.slice(raw.indexOf('(') + 1, close),
      fields: raw.slice(close + 2).split(' '),
    };
  } catch {
    return undefined;
  }
}

// --- where the time goes: the histories ---------------------------------------------------

interface JsonEvent {
  eventTime: string;
  eventType: string;
  workflowExecutionUpdateAcceptedEventAttributes?: {
    acceptedRequest?: { input?: { name?: string } };
  };
}

type HistoryFigures = Omit<TurnBreakdown, 'singleCallPhasesMs' | 'cpuPerTurnMs'>;

async function historyBreakdown(
  handles: WorkflowHandle[],
  turnsPerCall: number,
  clientMeanMs: number,
): Promise<HistoryFigures> {
  const counts: Record<string, number> = {};
  const schedToStart: number[] = [];
  const startToComplete: number[] = [];
  const serverTurn: number[] = [];
  let turns = 0;
  for (const handle of handles) {
    const { events } = JSON.parse(historyToJSON(await handle.fetchHistory())) as {
      events: JsonEvent[];
    };
    for (const seg of turnSegments(events).slice(0, turnsPerCall)) {
      turns++;
      const first = isoMs(seg[0]!.eventTime);
      let scheduled: number | undefined;
      let started: number | undefined;
      for (const e of seg) {
        const type = e.eventType.replace(/^EVENT_TYPE_/, '');
        counts[type] = (counts[type] ?? 0) + 1;
        const at = isoMs(e.eventTime);
        if (type === 'WORKFLOW_TASK_SCHEDULED') scheduled = at;
        else if (type === 'WORKFLOW_TASK_STARTED' && scheduled !== undefined) {
          schedToStart.push(at - scheduled);
          started = at;
        } else if (type === 'WORKFLOW_TASK_COMPLETED' && started !== undefined) {
          startToComplete.push(at - started);
        } else if (type === 'WORKFLOW_EXECUTION_UPDATE_COMPLETED') {
          serverTurn.push(at - first);
        }
      }
    }
  }
  const perTurn = (n: number) => round(n / Math.max(turns, 1), 2);
  const eventsPerTurn = Object.fromEntries(
    Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => [k, perTurn(v)]),
  );
  const serverMean = mean(serverTurn);
  return {
    callsSampled: handles.length,
    turnsSampled: turns,
    eventsPerTurn,
    totalEventsPerTurn: perTurn(Object.values(counts).reduce((a, b) => a + b, 0)),
    workflowTasksPerTurn: perTurn(counts.WORKFLOW_TASK_COMPLETED ?? 0),
    localActivityMarkersPerTurn: perTurn(counts.MARKER_RECORDED ?? 0),
    wftScheduleToStartMs: { mean: round(mean(schedToStart)), p95: round(pct(schedToStart, 95)) },
    wftStartToCompleteMs: {
      mean: round(mean(startToComplete)),
      p95: round(pct(startToComplete, 95)),
    },
    serverTurnMs: { mean: round(serverMean), p95: round(pct(serverTurn, 95)) },
    outsideServerTurnMs: round(clientMeanMs - serverMean),
    rpcFloorMs: handles[0] ? await rpcFloor(handles[0]) : { p50: NaN, p95: NaN },
  };
}

/**
 * Splits a history into turns: each runs from the WorkflowTaskScheduled of the task that
 * accepted an `utterance` update up to the next such task. The greeting before the
 * first turn falls outside every segment.
 */
function turnSegments(events: JsonEvent[]): JsonEvent[][] {
  const starts: number[] = [];
  events.forEach((e, i) => {
    if (
      e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name !== 'utterance'
    )
      return;
    let j = i;
    while (j > 0 && events[j]!.eventType !== 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED') j--;
    starts.push(j);
  });
  return starts.map((s, k) => events.slice(s, starts[k + 1] ?? events.length));
}

async function rpcFloor(handle: WorkflowHandle): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < 60; i++) {
    const start = performance.now();
    await handle.describe();
    if (i >= 10) ms.push(performance.now() - start);
  }
  return { p50: round(pct(ms, 50)), p95: round(pct(ms, 95)) };
}

/** RFC 3339 with nanoseconds → ms, keeping the sub-millisecond part. */
function isoMs(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return Date.parse(iso);
  return Date.parse(m[1]! + m[3]!) + Number(m[2] ?? 0) * 1000;
}

// --- statistics and the table ---------------------------------------------------------------

function stats(turns: Timed[]): LatencyStats {
  const ms = turns.map((t) => t.ms);
  const first = Math.min(...turns.map((t) => t.start));
  const last = Math.max(...turns.map((t) => t.start + t.ms));
  const wallMs = last - first;
  return {
    turns: ms.length,
    p50Ms: round(pct(ms, 50), 4),
    p95Ms: round(pct(ms, 95), 4),
    p99Ms: round(pct(ms, 99), 4),
    meanMs: round(mean(ms), 4),
    minMs: round(Math.min(...ms), 4),
    maxMs: round(Math.max(...ms), 4),
    turnsPerSec: round((ms.length / wallMs) * 1000, 1),
    wallMs: round(wallMs, 1),
  };
}

/** Nearest-rank percentile. */
function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function positiveInt(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, not ${n}`);
  return n;
}

/** The printed report: the table, the target, and where the time goes. */
export function formatReport(r: BenchResult): string[] {
  const ms = (n: number) => (n >= 10 ? n.toFixed(1) : n >= 0.1 ? n.toFixed(2) : n.toFixed(4));
  const x = (n: number) => `${n >= 100 ? Math.round(n) : n.toFixed(1)}×`;
  const row = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(26) : c.padStart(10))).join('');
  const stat = (name: string, s: LatencyStats) =>
    row([
      name,
      ms(s.p50Ms),
      ms(s.p95Ms),
      ms(s.p99Ms),
      ms(s.meanMs),
      ms(s.maxMs),
      s.turnsPerSec.toFixed(0),
      String(s.turns),
    ]);
  const b = r.breakdown;
  const events = Object.entries(b.eventsPerTurn)
    .map(([k, v]) => `${k.toLowerCase()} ${v}`)
    .join(', ');
  const phase = (p: { p50: number; mean: number }) => `p50 ${ms(p.p50)} ms (mean ${ms(p.mean)})`;
  const cpu = b.cpuPerTurnMs;
  const { options: o } = r;
  return [
    '',
    `orchestration overhead per turn — ${o.calls} calls × ${o.turnsPerCall} turns, ` +
      `concurrency ${o.concurrency}, ${o.thinkMs ? `${o.thinkMs} ms between turns` : 'turns back to back'}`,
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, node ${r.machine.node}, ` +
      `${r.machine.temporalCli.split('\n')[0]}; load ${r.machine.loadAvg.before} → ${r.machine.loadAvg.after}`,
    row(['', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms', 'turns/s', 'turns']),
    stat(`temporal, ${o.concurrency} calls at once`, r.temporal),
    stat('temporal, one call alone', r.temporalSingleCall),
    stat('in-process (no Temporal)', r.inProcess),
    row([
      'ratio temporal/in-process',
      x(r.ratio.p50),
      x(r.ratio.p95),
      x(r.ratio.p99),
      x(r.ratio.mean),
      '',
      `${r.ratio.turnsPerSec.toPrecision(2)}×`,
    ]),
    `target: one call alone p50 ≤ ${r.target.singleCallP50Ms} ms ${r.target.singleCallMet ? 'met' : 'MISSED'} ` +
      `(${ms(r.temporalSingleCall.p50Ms)} ms)` +
      (r.target.pacedP95Ms !== undefined
        ? `; ${o.concurrency} paced calls p95 ≤ ${r.target.pacedP95Ms} ms ` +
          `${r.target.pacedMet ? 'met' : 'MISSED'} (${ms(r.temporal.p95Ms)} ms)`
        : ''),
    '',
    'where the time goes',
    `  one call alone: update sent → classify() starts ${phase(b.singleCallPhasesMs.toFirstActivity)}`,
    `                  classify() ends → getBalance() starts ${phase(b.singleCallPhasesMs.betweenActivities)}`,
    `                  getBalance() ends → reply received ${phase(b.singleCallPhasesMs.afterLastActivity)}`,
    `  CPU per turn: ${ms(cpu.benchProcess)} ms in the bench's client and worker` +
      (cpu.worker !== undefined ? ` (${ms(cpu.client ?? 0)} + ${ms(cpu.worker)} ms)` : '') +
      (cpu.devServer !== undefined
        ? ` + ${ms(cpu.devServer)} ms in the dev server → at most ~${cpu.cpuBoundTurnsPerSec} turns/s on ${r.machine.cpus} cores`
        : ''),
    `  history per turn (${b.turnsSampled} turns of ${b.callsSampled} calls): ${b.totalEventsPerTurn} events — ${events}`,
    `  workflow tasks per turn ${b.workflowTasksPerTurn}, local-activity markers per turn ${b.localActivityMarkersPerTurn}`,
    `  workflow task scheduled→started: mean ${ms(b.wftScheduleToStartMs.mean)} ms, p95 ${ms(b.wftScheduleToStartMs.p95)} ms (dispatch to the worker's poll)`,
    `  workflow task started→completed: mean ${ms(b.wftStartToCompleteMs.mean)} ms, p95 ${ms(b.wftStartToCompleteMs.p95)} ms (activations + the local activity + completion RPC)`,
    `  turn as the server saw it (task scheduled→update completed): mean ${ms(b.serverTurnMs.mean)} ms, p95 ${ms(b.serverTurnMs.p95)} ms`,
    `  outside it (client→frontend, update admission, reply leg): mean ${ms(b.outsideServerTurnMs)} ms`,
    `  a unary RPC (describe) for scale: p50 ${ms(b.rpcFloorMs.p50)} ms, p95 ${ms(b.rpcFloorMs.p95)} ms`,
    `results: ${path.relative(process.cwd(), r.files.json) || r.files.json} (and latest.json)`,
  ];
}
