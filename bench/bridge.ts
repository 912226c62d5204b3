// The desk's WebRTC bridge, measured with a real browser: headless Chromium (the agent) in a
// real mediasoup router (PCMU only) with an RTP caller (testing/rtp-call-media.ts, what the
// Media Streams bridge does with the phone line). `./switchboard bench --bridge`.
//
// - accept to first audio, both ways: from the page's join() to the caller's first packet at
//   the browser, and to the browser's first packet at the caller (Date.now() on one machine);
// - mouth to ear through the bridge: the caller sends a click, the browser sends what it hears
//   straight back (it produces the received track), the caller times the click's return;
//   nothing subtracted (two WebRTC legs, the browser's jitter buffer, two router hops);
// - CPU (mediasoup worker + this Node process, the edge's share) and the worker's RSS per
//   bridged call (the browser is the agent's machine: not counted);
// - concurrent bridged calls (each a loopback) until the audio breaks up, seen from the
//   caller's socket: in some call, more than 2 % of the packets due in the window are missing
//   or late (late: more than 60 ms after the packet before it, when a 60 ms jitter buffer
//   would have run dry). Chromium runs on the same 2 cores: its pages are most of the load.
import fs from 'node:fs';
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { mulawToPcm, pcmToMulaw } from '../audio/mulaw';
import { repoRoot } from '../infra/paths';
import {
  deskPage,
  firstPacketAt,
  joinFromPage,
  launchWithMicrophone,
} from '../testing/desk-browser';
import { eventually } from '../testing/eventually';
import { DeskMediaStack, signedIn } from '../testing/desk-media-stack';
import type { RtpCallerMedia } from '../testing/rtp-call-media';
import { pct } from './percentile';

const CLICKS = 60;
const CLICK_EVERY_MS = 500;
const STEP_MS = 15_000;
const MAX_BAD = 0.02;
const LATE_MS = 60;
const RAMP = [1, 2, 4, 6, 8, 12, 16, 24];

/** 20 ms: 2 ms of a loud square wave, then quiet. */
function clickFrame(): Buffer {
  const pcm = new Int16Array(160);
  for (let i = 0; i < 16; i++) pcm[i] = i % 2 ? -20_000 : 20_000;
  return pcmToMulaw(pcm);
}

const loud = (payload: Buffer): boolean => mulawToPcm(payload).some((s) => Math.abs(s) > 4000);

async function loopbackCall(
  stack: DeskMediaStack,
  browser: Browser,
  callSid: string,
): Promise<{ call: RtpCallerMedia; page: Page; joinedAt: number }> {
  const call = await stack.call(callSid);
  const page = await deskPage(browser, stack.baseUrl, signedIn({ name: callSid, role: 'agent' }));
  const { startedAt } = await joinFromPage(page, 'call', {
    callSid,
    mode: 'talk',
    input: 'loopback',
  });
  return { call, page, joinedAt: startedAt };
}

async function mouthToEar(call: RtpCallerMedia): Promise<number[]> {
  const click = clickFrame();
  const sentAt: number[] = [];
  call.onSent = (at, frame) => {
    if (loud(frame)) sentAt.push(at);
  };
  for (let i = 0; i < CLICKS; i++) {
    call.say(click);
    await new Promise((r) => setTimeout(r, CLICK_EVERY_MS));
  }
  await new Promise((r) => setTimeout(r, 1000));
  call.onSent = undefined;
  const back = call.received.filter((p) => loud(p.payload));
  const latencies: number[] = [];
  for (const t of sentAt) {
    const r = back.find((p) => p.at >= t);
    if (r && r.at - t < CLICK_EVERY_MS) latencies.push(r.at - t);
  }
  return latencies;
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

/** CPU seconds of the mediasoup worker and this process (the edge's share of a call). */
function edgeCpuSeconds(workerPid: number): number {
  const own = process.cpuUsage();
  return cpuSeconds(workerPid) + (own.user + own.system) / 1e6;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Step {
  calls: number;
  /** The worst call's share of packets due in the window that were missing or late. */
  worstBadPct: number;
  worstGapMs: number;
  brokeUp: boolean;
  cpuPctPerCall: number;
  workerRssMbPerCall: number;
  loadAverage1m: number;
}

async function step(
  stack: DeskMediaStack,
  browser: Browser,
  n: number,
  baseRssMb: number,
): Promise<Step> {
  const calls = await Promise.all(
    Array.from({ length: n }, (_, i) => loopbackCall(stack, browser, `CA-bench-${n}-${i}`)),
  );
  // Let every loop settle, then watch one window.
  await Promise.all(
    calls.map(({ call }) => eventually('audio back', async () => call.received.length > 50)),
  );
  const from = calls.map(({ call }) => call.received.length);
  const t0 = Date.now();
  const cpu0 = edgeCpuSeconds(stack.worker.pid);
  await new Promise((r) => setTimeout(r, STEP_MS));
  const seconds = (Date.now() - t0) / 1000;
  const cpu1 = edgeCpuSeconds(stack.worker.pid);
  const rss = await rssMb(stack.worker.pid);
  let worstBad = 0;
  let worstGap = 0;
  calls.forEach(({ call }, i) => {
    const got = call.received.slice(from[i]).filter((p) => p.at - t0 <= seconds * 1000);
    const due = seconds * 50;
    let late = 0;
    for (let k = 1; k < got.length; k++) {
      const gap = got[k]!.at - got[k - 1]!.at;
      worstGap = Math.max(worstGap, gap);
      if (gap > LATE_MS) late++;
    }
    worstBad = Math.max(worstBad, (Math.max(0, due - got.length) + late) / due);
  });
  for (const { call, page } of calls) {
    await page.context().close();
    await stack.hangUp(call);
  }
  return {
    calls: n,
    worstBadPct: +(100 * worstBad).toFixed(2),
    worstGapMs: worstGap,
    brokeUp: worstBad > MAX_BAD,
    cpuPctPerCall: +((100 * (cpu1 - cpu0)) / seconds / n).toFixed(2),
    workerRssMbPerCall: +((rss - baseRssMb) / n).toFixed(2),
    loadAverage1m: +os.loadavg()[0]!.toFixed(1),
  };
}

export async function runBridgeBench(): Promise<void> {
  const stack = await DeskMediaStack.start();
  const browser = await launchWithMicrophone(undefined, '');
  try {
    const baseRssMb = await rssMb(stack.worker.pid);
    const loadBefore = +os.loadavg()[0]!.toFixed(1);
    // One call alone: the first audio both ways, then the clicks' round trip.
    const { call, page, joinedAt } = await loopbackCall(stack, browser, 'CA-bench-latency');
    const toBrowser = (await firstPacketAt(page, 'call', 'caller')) - joinedAt;
    await eventually('the browser at the caller', async () => call.received.length > 0);
    const toCaller = call.received[0]!.at - joinedAt;
    const m2e = await mouthToEar(call);
    await page.context().close();
    await stack.hangUp(call);
    const row = (xs: number[]) => ({ p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99) });
    console.log(
      `[bench] bridge: join → first caller audio in the browser ${toBrowser} ms; ` +
        `join → first agent audio at the caller ${toCaller} ms`,
    );
    console.log(
      `[bench] bridge: mouth to ear, caller → browser → caller, ${m2e.length}/${CLICKS} clicks: ` +
        `p50 ${pct(m2e, 50)} / p95 ${pct(m2e, 95)} / p99 ${pct(m2e, 99)} ms`,
    );
    const steps: Step[] = [];
    for (const n of RAMP) {
      const s = await step(stack, browser, n, baseRssMb);
      steps.push(s);
      console.log(
        `[bench] bridge: ${n} calls: worst call ${s.worstBadPct} % missing or late, worst gap ` +
          `${s.worstGapMs} ms; per call ${s.cpuPctPerCall} % of a core (worker + node), worker ` +
          `RSS ${s.workerRssMbPerCall} MB (load ${s.loadAverage1m})` +
          (s.brokeUp ? ' — breaks up' : ''),
      );
      if (s.brokeUp) break;
    }
    const result = {
      acceptToFirstAudioMs: { callerToBrowser: toBrowser, browserToCaller: toCaller },
      mouthToEarMs: { clicks: CLICKS, returned: m2e.length, ...row(m2e) },
      breakUp: { maxMissingOrLatePct: MAX_BAD * 100, lateMs: LATE_MS, stepMs: STEP_MS },
      loadAverage1mBefore: loadBefore,
      cores: os.cpus().length,
      steps,
      lastClean: steps.filter((s) => !s.brokeUp).at(-1)?.calls ?? 0,
      measuredAt: new Date().toISOString(),
    };
    const out = path.join(repoRoot, 'bench', 'results', 'bridge');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
    console.log('results: bench/results/bridge/latest.json');
  } finally {
    await browser.close();
    await stack.stop();
  }
}
