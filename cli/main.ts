// The `switchboard` command line: ./switchboard --help
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerInfraCommands } from '../infra/cli';
import { registerDeskUserCommand } from './desk-user';
import { registerHealthCommand } from './health';
import { registerIntentCommand } from './intent';
import { registerKbCommands } from './kb';
import { registerReportCommand } from './report';
import { registerWarehouseCommand } from './warehouse';
import { infraUp, temporalNamespace, temporalUiUrl } from '../infra';
import { repoRoot } from '../infra/paths';
import { checkCallSid } from '../simulator/call-sid';
import { parseCallerScript } from '../simulator/caller-script';
import { audioCall, demoDir, findCalls, textCall } from './calls';
import { startSystem } from './system';
import { runTests } from './test-runner';

const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const program = new Command('switchboard')
  .description('AI agent for inbound customer-service calls, on Temporal')
  .version(`switchboard ${version}, Node ${process.version}`, '-V, --version');
registerInfraCommands(program);
registerIntentCommand(program);
registerKbCommands(program);
registerWarehouseCommand(program);
registerReportCommand(program);
registerHealthCommand(program);
registerDeskUserCommand(program);

function fail(err: unknown): never {
  console.error(`[switchboard] error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

const collect = (v: string, acc: string[]) => [...acc, v];

program
  .command('start')
  .description(
    'start the platform (Temporal, PostgreSQL, Redis, object store, Kafka), build the knowledge ' +
      'index if missing, then the call worker, post-call worker, warehouse loader, media-edge and ' +
      "the Web UI's history codec; " +
      'Ctrl-C stops the app and lets each process finish what it started (the platform stays up)',
  )
  .action(async () => {
    const system = await startSystem().catch(fail);
    console.log(
      '[switchboard] running. Place a call with: ./switchboard call --say "what\'s my balance" --say goodbye',
    );
    const stop = async () => {
      await system.stop();
      process.exit(0);
    };
    // A failed stop is reported and exits non-zero, not left as an unhandled rejection.
    const onSignal = () => void stop().catch(fail);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });

program
  .command('call')
  .description(
    'place a simulated call (Twilio webhook + Media Streams with real audio) and print the conversation',
  )
  .option(
    '--say <text>',
    'the caller says this (offline voice flite kal); repeatable, in order',
    collect,
    [],
  )
  .option(
    '--audio <file>',
    'the caller plays this WAV (16-bit PCM, any rate); repeatable',
    collect,
    [],
  )
  .option('--dtmf <keys>', 'the caller presses these keys', collect, [])
  .option('--pause <ms>', 'the caller stays silent this long', collect, [])
  .option(
    '--interrupt-after <ms>',
    'start the next step this long after the agent starts replying (barge-in)',
    collect,
    [],
  )
  .option('--hangup', 'hang up here (the end of the script hangs up too)')
  .option(
    '--from <number>',
    'caller number (demo customers: +15550100001 … +15550100005)',
    '+15550100001',
  )
  .option('--pace <x>', 'audio speed: 1 real time, 4 four times faster', '1')
  .option('--transcribe', "transcribe the agent's replies with pocketsphinx after the call")
  .option('--record <file.wav>', 'save both sides as a two-channel WAV (caller left, agent right)')
  .option('--text', "text-level call without audio (the simulator plays the edge's part)")
  .option('--call-sid <CA…>', "the call's Twilio CallSid (CA + 32 hex; default: a random one)")
  .action(async (o: CallCommandFlags) => {
    const flags = { from: o.from, ...(o.callSid && { callSid: checkOrFail(o.callSid) }) };
    if (o.text) {
      if (!o.say.length) fail('give at least one --say "<what the caller says>"');
      await textCall(o.say, flags).catch(fail);
      return;
    }
    // In the order given: commander groups repeated options by name.
    const { items } = parseCallerScript(process.argv.slice(2));
    await audioCall(items, {
      ...flags,
      pace: Number(o.pace),
      ...(o.transcribe && { transcribe: true }),
      ...(o.record && { record: o.record }),
    }).catch(fail);
  });

program
  .command('find')
  .description(
    "list the calls from a caller's number (Temporal holds a keyed hash of it, not the number)",
  )
  .requiredOption('--from <number>', 'the number as Twilio sends it, e.g. +15550100001')
  .action(async (o: { from: string }) => {
    if (!o.from.trim()) fail('--from needs a number, e.g. +15550100001');
    await findCalls(o.from).catch(fail);
  });

function checkOrFail(sid: string): string {
  try {
    return checkCallSid(sid);
  } catch (err) {
    return fail(err);
  }
}

interface CallCommandFlags {
  say: string[];
  from: string;
  pace: string;
  callSid?: string;
  transcribe?: boolean;
  record?: string;
  text?: boolean;
}

program
  .command('demo')
  .description(
    'start everything, place four text-level calls and one real audio call end to end, print ' +
      "the day's report, stop the app (the platform stays up: ./switchboard infra down)",
  )
  .action(async () => {
    const system = await startSystem().catch(fail);
    try {
      await placeDemoCalls();
    } catch (err) {
      await system.stop();
      fail(err);
    }
    // Stopped first: the loader lets go of the warehouse, and the report loads what is left.
    await system.stop();
    console.log("\n[demo] 6. today's report from the warehouse (events via Kafka)");
    const { runReport } = await import('./report');
    const run = await runReport({ day: new Date().toISOString().slice(0, 10) }).catch(fail);
    console.log(run.text);
    console.log(`\nLatency chart: ${run.chartPath}`);
    console.log(
      `\n[demo] done. Browse the calls in the Temporal Web UI: ${temporalUiUrl()}/namespaces/${temporalNamespace()}/workflows`,
    );
  });

async function placeDemoCalls(): Promise<void> {
  console.log('\n[demo] 1. a balance question');
  await textCall(["what's my balance", 'goodbye'], { from: '+15550100001' });
  console.log('\n[demo] 2. paying a bill, with confirmation');
  await textCall(['I want to pay my bill', 'yes', 'goodbye'], { from: '+15550100002' });
  console.log('\n[demo] 3. an unclear request, then an agent');
  await textCall(['uh', 'can I talk to a real person'], { from: '+15550100004' });
  console.log('\n[demo] 4. a knowledge-base question, answered while it is generated');
  await textCall(['what is the late fee', 'goodbye'], { from: '+15550100001' });
  console.log('\n[demo] 5. a real audio call through the Media Streams edge, paying a bill');
  const say = (text: string) => ({ kind: 'say' as const, text });
  await audioCall(
    [say("what's my balance"), say('I want to pay my bill'), say('yes'), say('goodbye')],
    { from: '+15550100001', pace: 1, keepRecordingIn: demoDir(), awaitPostCall: true },
  );
}

interface BenchOptions {
  calls?: string;
  turns?: string;
  think: string;
  voice?: boolean;
  voices?: string;
  only?: string;
  stt: string;
  out: string;
  patient?: boolean;
}

program
  .command('bench')
  .description(
    'benchmarks, each against a baseline in the same run (p50/p95/p99): by default language ' +
      '(intent, retrieval, first sentence), orchestration (Temporal vs in-process), the warehouse ' +
      'loader and voice to voice; or one of them with the flags below',
  )
  .option('--calls <n>', 'concurrent calls (default: both scenarios below)')
  .option('--turns <n>', 'turns per call')
  .option('--think <ms>', 'pause between a reply and the next utterance', '0')
  .option('--voice', 'only the voice-to-voice benchmark (real audio through the local stack)')
  .option('--no-voice', 'skip the voice-to-voice benchmark')
  .option(
    '--capacity',
    'only the edge capacity benchmark (concurrent calls until voice-to-voice p95 doubles)',
  )
  .option(
    '--language',
    'only intent, retrieval and time to the first sentence of a grounded answer',
  )
  .option('--loader', 'only the warehouse loader: batched vs one event per transaction')
  .option(
    '--orchestration',
    'only the orchestration scenarios (one call alone, paced, saturated; or --calls N)',
  )
  .option('--frames', "only the edge's per-frame audio path vs the μ-law decode alone")
  .option('--codec', "only the history codec: a call's payloads encrypted and back vs JSON alone")
  .option(
    '--bridge',
    "only the agent desk's WebRTC bridge in headless Chromium: first audio both ways, mouth " +
      'to ear, CPU and memory per bridged call, concurrent calls until the audio breaks up',
  )
  .option(
    '--faults [name]',
    'only the degraded modes under real faults, whole calls: LLM black hole, ASR, Redis, TTS, ' +
      'object store, CRM and vector store down (or the one named) — calls before, during and after, ' +
      'detection and recovery times, call logs, events and payments lost or doubled',
  )
  .option(
    '--scenarios',
    'only task success on unseen voices: the scripted calls (balance, payments, silence, ' +
      'questions, injections …) as real audio through the edge, per voice and recognizer',
  )
  .option('--voices <ids>', 'scenarios: the caller voices, comma-separated (testing/asr-corpus.ts)')
  .option('--only <names>', 'scenarios: only these, comma-separated')
  .option(
    '--stt <which>',
    'scenarios: the recognizers, comma-separated: pocketsphinx, moonshine, auto (both = the first two)',
    'both',
  )
  .option('--out <name>', 'scenarios: write bench/results/scenarios/<name>.json and .md', 'latest')
  .option('--patient', 'scenarios: callers say a line once more when the agent asks for it again')
  .action(async (o: BenchOptions) => {
    if (process.argv.includes('--scenarios')) {
      const { runScenarioBench, STT_CONFIGS, DEFAULT_STT_CONFIGS } =
        await import('../bench/scenarios');
      const s = o;
      const list = (v?: string) =>
        v
          ?.split(',')
          .map((x) => x.trim())
          .filter(Boolean);
      const asked = s.stt === 'both' ? [...DEFAULT_STT_CONFIGS] : (list(s.stt) ?? []);
      const stt = STT_CONFIGS.filter((c) => asked.includes(c));
      if (!stt.length || stt.length !== asked.length)
        fail(new Error(`--stt takes ${STT_CONFIGS.join(', ')} or both, not ${s.stt}`));
      if (!/^[A-Za-z0-9._-]+$/.test(s.out)) fail(new Error(`--out is a file name, not ${s.out}`));
      await runScenarioBench({
        ...(s.voices && { voices: list(s.voices) }),
        ...(s.only && { only: list(s.only) }),
        stt,
        out: s.out,
        patient: s.patient === true,
      }).catch(fail);
      process.exit(0);
    }
    if (process.argv.includes('--frames')) {
      const { runFrameBench } = await import('../bench/frames');
      await runFrameBench().catch(fail);
      process.exit(0);
    }
    if (process.argv.includes('--codec')) {
      const { runCodecBench } = await import('../bench/codec');
      await runCodecBench().catch(fail);
      process.exit(0);
    }
    if (process.argv.includes('--bridge')) {
      const { runBridgeBench } = await import('../bench/bridge');
      await runBridgeBench().catch(fail);
      process.exit(0);
    }
    if (process.argv.includes('--faults')) {
      const { runFaultBench } = await import('../bench/faults');
      const only = (o as { faults?: string | boolean }).faults;
      await runFaultBench(typeof only === 'string' ? { only } : {}).catch(fail);
      process.exit(0);
    }
    if (process.argv.includes('--orchestration')) {
      await orchestration(o, { single: true });
      process.exit(0);
    }
    if (process.argv.includes('--loader')) {
      const { runLoaderBench } = await import('../bench/loader');
      await runLoaderBench().catch(fail);
      process.exit(0);
    }
    if (process.argv.includes('--capacity')) {
      await infraUp();
      const { runCapacityBench } = await import('../bench/voice');
      await runCapacityBench().catch(fail);
      return;
    }
    const languageOnly = process.argv.includes('--language');
    if (languageOnly || !process.argv.includes('--voice')) {
      await infraUp();
      const { runLanguageBench } = await import('../bench/language');
      await runLanguageBench().catch(fail);
      // The models (ONNX, PGlite, llama.cpp) keep handles open: done is done.
      if (languageOnly) process.exit(0);
    }
    const voiceOnly = process.argv.includes('--voice');
    if (!voiceOnly) await orchestration(o);
    if (!voiceOnly) await (await import('../bench/loader')).runLoaderBench().catch(fail);
    if (o.voice !== false) {
      console.log(
        '\n[bench] voice to voice (5 concurrent calls × 4 rounds × 5 turns = 100 turns, real-time pace)',
      );
      await infraUp();
      const { runVoiceBench } = await import('../bench/voice');
      await runVoiceBench({ calls: 5, rounds: 4 }).catch(fail);
    }
  });

async function orchestration(
  o: { calls?: string; turns?: string; think: string },
  { single = false } = {},
): Promise<void> {
  const { runOrchestrationBench } = await import('../bench/orchestration');
  const scenarios = o.calls
    ? [
        {
          name: 'custom',
          calls: Number(o.calls),
          turnsPerCall: Number(o.turns ?? 60),
          thinkMs: Number(o.think),
        },
      ]
    : [
        // One call, turns back to back: the per-turn cost without queueing, and its history.
        ...(single ? [{ name: 'single', calls: 1, turnsPerCall: 60, thinkMs: 0 }] : []),
        // Callers listen to the reply before they speak again: a busy line's real pace.
        { name: 'paced', calls: 20, turnsPerCall: 25, thinkMs: 1000 },
        // Every caller answers instantly: the latency when the machine is saturated.
        { name: 'saturated', calls: 10, turnsPerCall: 60, thinkMs: 0 },
      ];
  for (const { name, ...opts } of scenarios) {
    console.log(`\n[bench] scenario "${name}"`);
    await runOrchestrationBench({
      ...opts,
      out: path.join(repoRoot, 'bench', 'results', name),
    }).catch(fail);
  }
}

program
  .command('build')
  .description('compile to dist/ (tsc), bundle the workflows ahead of time, copy the assets')
  .action(async () => {
    const { build } = await import('./build');
    await build((line) => console.log(`[switchboard] ${line}`)).catch(fail);
  });

program
  .command('test')
  .description(
    'run the gates (typecheck, lint, format, import rules), install and start what the tests ' +
      'need, run the whole suite, print "N passed, N failed"',
  )
  .argument('[mocha-args...]', 'extra mocha arguments, e.g. --grep replay')
  // Mocha's own options (--grep, --exclude …) pass through untouched.
  .allowUnknownOption()
  .action(async (args: string[]) => {
    process.exitCode = await runTests(args).catch(fail);
  });

program.parseAsync().catch(fail);
