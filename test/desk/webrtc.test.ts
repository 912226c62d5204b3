// The agent desk's WebRTC in a real browser: headless Chromium with a fake microphone playing
// speech, the desk's signaling routes, a real mediasoup worker and router (PCMU only), and a
// caller on RTP (testing/rtp-call-media.ts: what the Media Streams bridge does with the phone
// line). What the caller hears is transcribed back with pocketsphinx.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { mulawToPcm, pcmToMulaw } from '../../audio/mulaw';
import { wordsHeard } from '../../testing/heard-words';
import {
  deskPage,
  joinFromPage,
  launchWithMicrophone,
  leaveFromPage,
  sessionEnded,
  sessionPacketsSent,
  sessionStats,
  sessionVoices,
} from '../../testing/desk-browser';
import { eventually } from '../../testing/eventually';
import { DeskMediaStack, signedIn } from '../../testing/desk-media-stack';
import type { RtpCallerMedia } from '../../testing/rtp-call-media';
import { concatPcm, silence, speak } from '../../testing/speech-audio';

const AGENT_SAYS = 'your refund was approved this morning';
const SUPERVISOR_SAYS = 'offer them the premium discount';
const CALLER_A_SAYS = 'my internet keeps dropping';
const CALLER_B_SAYS = 'i want to cancel my contract';

const agent = { name: 'ana', role: 'agent' } as const;
const agentB = { name: 'ben', role: 'agent' } as const;
const supervisor = { name: 'sue', role: 'supervisor' } as const;

/** A line said, then a second of quiet (a fake microphone plays it on a loop). */
async function line(text: string, voice: string, sampleRate: number) {
  const said = await speak(text, { engine: 'flite', voice, sampleRate });
  return { samples: concatPcm(said.samples, silence(1000, sampleRate)), sampleRate };
}

/** What the caller heard over the last 16 s since packet `from`, as words. */
async function callerHeard(call: RtpCallerMedia, from = 0): Promise<string> {
  const mulaw = Buffer.concat(call.received.slice(from).map((p) => p.payload));
  const samples = mulawToPcm(mulaw.subarray(Math.max(0, mulaw.length - 16 * 8000)));
  return wordsHeard(samples, [AGENT_SAYS, SUPERVISOR_SAYS, CALLER_A_SAYS, CALLER_B_SAYS]);
}

const statsOf = async (page: Page, key: string, source: string) =>
  (await sessionStats(page, key)).find((s) => s.source === source);

/** Waits until the page's voice from `source` has arrived with sound in it. */
const hearsSound = (page: Page, key: string, source: string) =>
  eventually(
    `${key} to hear the ${source}`,
    async () => {
      const s = await statsOf(page, key, source);
      return s && s.packetsReceived > 50 && s.totalAudioEnergy > 0 ? s : undefined;
    },
    60_000,
  );

/** Waits for `seconds` of audio more at the caller. */
const callerGets = (call: RtpCallerMedia, seconds: number) => {
  const target = call.received.length + seconds * 50;
  return eventually(
    `${seconds} s of audio at the caller`,
    async () => call.received.length >= target,
  );
};

/**
 * What the caller heard once it holds `words`. The agent's voice starts a few seconds after the
 * join, and on a loaded machine the line has come through with seconds of silence in it, so
 * this listens again every 4 s of audio, up to a minute of it, and fails with the last heard.
 */
async function callerHears(call: RtpCallerMedia, from: number, words: RegExp): Promise<string> {
  let heard = '';
  for (let got = 0; got < 60; got += 4) {
    await callerGets(call, got === 0 ? 8 : 4);
    heard = await callerHeard(call, from);
    if (words.test(heard)) return heard;
  }
  assert.fail(`the caller heard "${heard}", not ${words}`);
}

describe('agent desk WebRTC (Chromium, mediasoup)', function () {
  this.timeout(240_000);
  let stack: DeskMediaStack;
  let dir: string;
  // One browser per fake microphone: the agent's voice, and the supervisor's.
  let agentMic: Browser;
  let supervisorMic: Browser;
  let callA: RtpCallerMedia;
  let callB: RtpCallerMedia;
  let agentPage: Page;
  let supervisorPage: Page;

  before(async () => {
    assert.ok(process.env.MEDIASOUP_WORKER_BIN, 'MEDIASOUP_WORKER_BIN (./switchboard sets it)');
    dir = await mkdtemp(path.join(tmpdir(), 'desk-webrtc-'));
    stack = await DeskMediaStack.start();
    agentMic = await launchWithMicrophone(
      await line(AGENT_SAYS, 'kal', 48_000),
      path.join(dir, 'agent.wav'),
    );
    supervisorMic = await launchWithMicrophone(
      await line(SUPERVISOR_SAYS, 'slt', 48_000),
      path.join(dir, 'supervisor.wav'),
    );
    callA = await stack.call('CA-desk-a');
    callA.sayOnRepeat(pcmToMulaw((await line(CALLER_A_SAYS, 'rms', 8000)).samples));
  });

  after(async () => {
    await agentMic?.close();
    await supervisorMic?.close();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses anonymous requests, listen-in or whisper by an agent, bad bodies and unknown calls', async () => {
    const url = `/desk/api/calls/${callA.callSid}/media/peers`;
    const post = (headers: Record<string, string>, payload: unknown, path = url) =>
      stack.app.inject({ method: 'POST', url: path, headers, payload: payload as object });
    assert.equal((await post({}, { mode: 'talk' })).statusCode, 401);
    assert.equal(
      (await stack.app.inject({ method: 'GET', url: '/desk/media.js' })).statusCode,
      401,
    );
    for (const mode of ['listen', 'whisper']) {
      const refused = await post(signedIn(agent), { mode });
      assert.equal(refused.statusCode, 403, mode);
      assert.match(refused.json<{ error: string }>().error, /supervisor/);
    }
    const bad = await post(signedIn(agent), { mode: 'shout' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<{ error: string }>().error, /mode/);
    const unknown = await post(
      signedIn(agent),
      { mode: 'talk' },
      '/desk/api/calls/CA-none/media/peers',
    );
    assert.equal(unknown.statusCode, 404);
    // A listening supervisor has no way to send audio at all.
    const listening = await post(signedIn(supervisor), { mode: 'listen' });
    assert.equal(listening.statusCode, 201);
    const { peerId } = listening.json<{ peerId: string }>();
    const send = await post(
      signedIn(supervisor),
      { direction: 'send' },
      `${url}/${peerId}/transports`,
    );
    assert.equal(send.statusCode, 403);
    // Nor may anyone else use that peer.
    const other = await stack.app.inject({
      method: 'GET',
      url: `${url}/${peerId}/voices`,
      headers: signedIn(agent),
    });
    assert.equal(other.statusCode, 404);
    await stack.app.inject({
      method: 'DELETE',
      url: `${url}/${peerId}`,
      headers: signedIn(supervisor),
    });
  });

  it("the agent and the caller hear each other: the caller gets the agent's words", async () => {
    agentPage = await deskPage(agentMic, stack.baseUrl, signedIn(agent));
    const from = callA.received.length;
    await joinFromPage(agentPage, 'a', {
      callSid: callA.callSid,
      mode: 'talk',
    });
    await hearsSound(agentPage, 'a', 'caller');
    const heard = await callerHears(callA, from, /refund/);
    assert.equal(callA.playing.size, 1, 'one voice played to the caller: the agent');
    assert.doesNotMatch(heard, /premium|discount/);
  });

  it('a supervisor listening in hears both sides; the caller hears nothing of it', async () => {
    supervisorPage = await deskPage(supervisorMic, stack.baseUrl, signedIn(supervisor));
    await joinFromPage(supervisorPage, 'listen', { callSid: callA.callSid, mode: 'listen' });
    await hearsSound(supervisorPage, 'listen', 'caller');
    await hearsSound(supervisorPage, 'listen', 'agent');
    assert.equal(await sessionPacketsSent(supervisorPage, 'listen'), 0);
    const from = callA.received.length;
    await callerGets(callA, 8);
    assert.equal(callA.playing.size, 1, 'still only the agent is played to the caller');
    const heard = await callerHeard(callA, from);
    assert.doesNotMatch(heard, /premium|discount/, `the caller heard "${heard}"`);
    await leaveFromPage(supervisorPage, 'listen');
  });

  it('a whisper reaches the agent and not the caller', async () => {
    await joinFromPage(supervisorPage, 'whisper', {
      callSid: callA.callSid,
      mode: 'whisper',
    });
    assert.ok((await sessionPacketsSent(supervisorPage, 'whisper')) >= 0);
    // The agent's page learns of the new voice by itself.
    await hearsSound(agentPage, 'a', 'whisper');
    const from = callA.received.length;
    await callerGets(callA, 12);
    assert.equal(callA.playing.size, 1, 'the whisper is not played to the caller');
    assert.equal(new Set(callA.received.slice(from).map((p) => p.ssrc)).size, 1);
    // None of the supervisor's words (the recognizer finds them when they are there: call B's
    // caller hears them from the same microphone in the next test).
    const heard = await callerHeard(callA, from);
    assert.doesNotMatch(heard, /premium|discount/, `the caller heard "${heard}"`);
    assert.ok((await sessionPacketsSent(supervisorPage, 'whisper')) > 0);
  });

  it('two calls at once stay apart', async () => {
    callB = await stack.call('CA-desk-b');
    callB.sayOnRepeat(pcmToMulaw((await line(CALLER_B_SAYS, 'awb', 8000)).samples));
    // Call B's agent speaks with the other microphone (the supervisor's line).
    const agentBPage = await deskPage(supervisorMic, stack.baseUrl, signedIn(agentB));
    const from = callB.received.length;
    const b = await joinFromPage(agentBPage, 'b', {
      callSid: callB.callSid,
      mode: 'talk',
    });
    await hearsSound(agentBPage, 'b', 'caller');
    const heardB = await callerHears(callB, from, /premium|discount/);
    assert.doesNotMatch(heardB, /refund/);
    const voicesA = (await sessionVoices(agentPage, 'a')).map((v) => v.producerId);
    const voicesB = (await sessionVoices(agentBPage, 'b')).map((v) => v.producerId);
    assert.ok(
      voicesA.includes(callA.callerProducerId) && !voicesA.includes(callB.callerProducerId),
    );
    assert.deepEqual(voicesB, [callB.callerProducerId]);
    // Asking for the other call's caller by its producer id is refused.
    const steal = await stack.app.inject({
      method: 'POST',
      url: `/desk/api/calls/${callB.callSid}/media/peers/${b.peerId}/consume`,
      headers: signedIn(agentB),
      payload: { producerId: callA.callerProducerId, rtpCapabilities: {} },
    });
    assert.equal(steal.statusCode, 404);
    assert.equal(callB.playing.size, 1);
    await agentBPage.context().close();
  });

  it('peers close when they leave, when the browser goes away and when the call ends', async () => {
    // The supervisor's browser goes away without a word (its renderer is gone, no DTLS close
    // alert): ICE consent runs out (mediasoup: 30 s), the peer closes, the whisper with it.
    await supervisorPage.context().close();
    await eventually(
      'the whisper to go',
      async () => (await sessionVoices(agentPage, 'a')).every((v) => v.source !== 'whisper'),
      90_000,
    );
    // The agent leaves: the caller's playout of the agent stops.
    await leaveFromPage(agentPage, 'a');
    await eventually('the agent to be off the line', async () => callA.playing.size === 0);
    // The call ends while an agent is in it: the page is told.
    await joinFromPage(agentPage, 'again', {
      callSid: callA.callSid,
      mode: 'talk',
    });
    await stack.hangUp(callA);
    await eventually('the page to learn the call ended', () => sessionEnded(agentPage, 'again'));
    await stack.hangUp(callB);
  });
});
