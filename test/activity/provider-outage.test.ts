// A primary provider's outage injected for real (Toxiproxy between the adapter and the
// vendor's stand-in), with provider health as the gate: the first failures fall through, then
// the breaker opens and the chain starts at the first healthy link without asking the primary
// (no first-token wait); once the stand-in is reachable again a probe after the open period
// closes it. The fall-through rules themselves are tested with fakes in llm-fallback and
// stt-fallback; here it is the real line and the breaker.
import assert from 'node:assert/strict';
import type { ProviderAttempt } from '../../contracts/providers';
import { ProviderHealth } from '../../providers/health/provider-health';
import { languageModelFromEnv } from '../../providers/llm/config';
import { DeepgramSpeechToText } from '../../providers/stt/deepgram';
import { FallbackSpeechToText } from '../../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { HINTS, phoneLine } from '../../testing/asr-corpus';
import { type FaultProxy, hostPort, startFaultProxy, throughProxy } from '../../testing/faults';
import { LATE_FEE_PROMPT as PROMPT, QUICK_BREAKER as policy } from '../../testing/degraded';
import { speak } from '../../testing/speech-audio';
import { silentLog } from '../../infra/paths';
import { DeepgramReplayServer } from '../../testing/deepgram-replay';
import { OpenAiReplayServer } from '../../testing/openai-replay';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const shape = (a: readonly ProviderAttempt[]) =>
  a.map((x) => `${x.provider}:${x.ok ? 'ok' : x.kind}`);

describe('provider outages through Toxiproxy, with the breaker', function () {
  this.timeout(120_000);

  describe('LLM primary black-holed', () => {
    const replay = new OpenAiReplayServer();
    let proxy: FaultProxy;
    let health: ProviderHealth;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      const url = await replay.start();
      proxy = await (await startFaultProxy()).proxy('llm-openai', hostPort(url));
      env = {
        LLM_CHAIN: 'openai,template',
        OPENAI_API_KEY: 'sk-test-switchboard-0123456789',
        OPENAI_BASE_URL: throughProxy(url, proxy),
        LLM_OPENAI_FIRST_TOKEN_TIMEOUT_MS: '400',
        LLM_OPENAI_TIMEOUT_MS: '2000',
      };
    });
    beforeEach(() => (health = new ProviderHealth({ policy })));
    after(async () => {
      await replay.close();
    });

    const answer = async () => {
      const a = languageModelFromEnv(env, silentLog, health.forFamily('llm')).answer(PROMPT);
      for await (const piece of a) assert.equal(typeof piece, 'string'); // drain the stream
      return a.result;
    };

    it('falls through, then starts at the healthy link once open, and closes after a probe', async () => {
      assert.equal((await answer()).servedBy, 'openai');
      await proxy.blackhole();
      for (let i = 0; i < policy.consecutiveFailures; i++) {
        const r = await answer();
        assert.equal(r.servedBy, 'template');
        assert.deepEqual(shape(r.attempts), ['openai:timeout', 'template:ok']);
      }
      const asked = replay.requests.length;
      const open = await answer();
      assert.equal(open.servedBy, 'template');
      assert.deepEqual(shape(open.attempts), ['openai:skipped', 'template:ok']);
      assert.match(open.attempts[0]!.reason ?? '', /unhealthy since \d\d:\d\d:\d\d/);
      assert.equal(open.attempts[0]!.firstTokenMs, undefined, 'no first-token wait');
      assert.equal(replay.requests.length, asked, 'the black-holed primary is not asked');

      await proxy.clear();
      await sleep(policy.openMs);
      const probe = await answer();
      assert.equal(probe.servedBy, 'openai', 'the probe went to the restored primary');
      assert.equal(health.state('llm:openai').state.state, 'closed');
      assert.deepEqual(shape((await answer()).attempts), ['openai:ok']);
    });
  });

  describe('ASR primary down', () => {
    let server: DeepgramReplayServer;
    let proxy: FaultProxy;
    let sphinx: PocketsphinxSpeechToText;
    let samples: Int16Array;

    before(async () => {
      server = await DeepgramReplayServer.start();
      proxy = await (await startFaultProxy()).proxy('asr-deepgram', hostPort(server.url));
      sphinx = new PocketsphinxSpeechToText({ poolSize: 1, acquireTimeoutMs: 300 });
      sphinx.warm();
      samples = phoneLine(
        await speak('what is my balance', { engine: 'flite', voice: 'slt' }),
      ).samples;
    });
    after(async () => {
      await server.close();
      sphinx.dispose();
    });

    it('goes straight to the local recognizer once open, back to Deepgram after a probe', async () => {
      const health = new ProviderHealth({ policy });
      const stt = new FallbackSpeechToText(
        new DeepgramSpeechToText({
          apiKey: 'dg-test-key',
          baseUrl: throughProxy(server.url, proxy),
          finalizeTimeoutMs: 500,
        }),
        sphinx,
        { backoffMs: [50, 50], gate: health.forFamily('stt') },
      );
      const utterance = async () => {
        const stream = stt.start({ sampleRate: 8000, hints: HINTS.open });
        for (let i = 0; i < samples.length; i += 160) stream.write(samples.subarray(i, i + 160));
        return stream.finish();
      };
      assert.equal((await utterance()).provider, 'deepgram');
      await proxy.down();
      const failed = await utterance();
      assert.equal(failed.provider, 'pocketsphinx');
      assert.ok(
        failed.attempts!.filter((a) => a.provider === 'deepgram').every((a) => !a.ok),
        JSON.stringify(failed.attempts),
      );
      assert.equal(health.state('stt:deepgram').state.state, 'open');

      const connections = server.connections.length;
      const open = await utterance();
      assert.equal(open.provider, 'pocketsphinx');
      assert.deepEqual(shape(open.attempts!), ['deepgram:skipped', 'pocketsphinx:ok']);
      assert.match(open.attempts![0]!.reason ?? '', /unhealthy since/);
      assert.equal(server.connections.length, connections, 'Deepgram is not dialled while open');

      await proxy.up();
      await sleep(policy.openMs);
      const probe = await utterance();
      assert.equal(probe.provider, 'deepgram');
      assert.equal(health.state('stt:deepgram').state.state, 'closed');
    });
  });
});
