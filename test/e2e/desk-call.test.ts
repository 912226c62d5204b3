// The whole in-house hand-off: a caller over Media Streams asks for a person (keypad 0), the
// workflow waits on the desk, an agent signs in to the desk in headless Chromium and takes the
// call over; the agent's microphone (a WAV) goes browser → WebRTC → the edge's mediasoup
// router → the call's bridge → the caller's line. What the caller heard is transcribed back.
// RECORD_SCREENSHOTS=1 saves the docs' picture of the call page (docs/images/desk-call.png).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { callWorkflowId, stateQuery } from '../../contracts/call';
import { hashPassword } from '../../media-edge/desk/passwords';
import { MediaPlane } from '../../media-edge/media/media-plane';
import { loadMediaPlaneConfig } from '../../media-edge/media/media-plane-config';
import { wordsHeard } from '../../testing/heard-words';
import { ADA } from '../../testing/calls';
import { launchWithMicrophone } from '../../testing/desk-browser';
import { eventually } from '../../testing/eventually';
import { callStack, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { localEnv, resetDb } from '../../testing/platform';
import { concatPcm, silence, speak } from '../../testing/speech-audio';

const AGENT_SAYS = 'your refund was approved this morning';
const BACK_WITH_AI = "you're back with the assistant is there anything else i can help you with";

const PASSWORDS = { alice: 'alice-desk-password', bob: 'bob-desk-password' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HINTS = [AGENT_SAYS, BACK_WITH_AI, 'thanks for holding an agent will be with you shortly'];

describe('a call handed to a human on the desk (Media Streams, mediasoup, Chromium)', function () {
  let plane: MediaPlane;
  let stack: EdgeStack;
  let browser: Browser;
  let dir: string;

  before(async () => {
    assert.ok(process.env.MEDIASOUP_WORKER_BIN, 'MEDIASOUP_WORKER_BIN (./switchboard sets it)');
    await resetDb();
    dir = await mkdtemp(path.join(tmpdir(), 'desk-call-'));
    plane = await MediaPlane.start(loadMediaPlaneConfig({}), () => undefined);
    stack = await startEdgeStack({
      media: plane,
      env: {
        TTS_CACHE_NAMESPACE: `tts-desk-call-${process.pid}`,
        HANDOFF_TARGET: 'desk',
        DESK_USERS: [
          `alice:agent:${await hashPassword(PASSWORDS.alice)}`,
          `bob:agent:${await hashPassword(PASSWORDS.bob)}`,
        ].join(','),
        DESK_SESSION_SECRET: randomBytes(32).toString('hex'),
      },
    });
    const said = await speak(AGENT_SAYS, { engine: 'flite', voice: 'kal', sampleRate: 48_000 });
    browser = await launchWithMicrophone(
      { samples: concatPcm(said.samples, silence(1000, 48_000)), sampleRate: 48_000 },
      path.join(dir, 'agent.wav'),
    );
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    await plane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function signIn(name: 'alice' | 'bob'): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${stack.edgeUrl}/desk/`);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', PASSWORDS[name]);
    await Promise.all([page.waitForURL(`${stack.edgeUrl}/desk/`), page.click('button[type=submit]')]); // prettier-ignore
    return page;
  }

  it("the agent takes the call from the desk, the caller hears the agent's words, and none once handed back", async () => {
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const placedAt = Date.now();
    const call = callStack(
      stack,
      [
        { kind: 'pause', ms: 6_000 },
        { kind: 'dtmf', digits: '0' },
        { kind: 'pause', ms: 60_000 },
      ],
      // A human on the line sends audio without pause: the caller hangs up on the clock.
      { from: ADA, callSid, pace: 1, maxCallMs: 55_000 },
    );
    const handle = (await localEnv()).client.workflow.getHandle(callWorkflowId(callSid));
    await eventually(
      'the call waiting on the desk',
      async () => (await handle.query(stateQuery).catch(() => undefined))?.handoff?.status === 'waiting' || undefined, // prettier-ignore
      40_000,
    );

    const page = await signIn('alice');
    await page.goto(`${stack.edgeUrl}/desk/calls/${callSid}`);
    await page.click('#take-over');
    await page
      .locator('#media-status', { hasText: 'Audio connected' })
      .waitFor({ timeout: 30_000 });
    if (process.env.RECORD_SCREENSHOTS === '1') {
      // The docs' picture of a call taken over, with its audio connected.
      await page.setViewportSize({ width: 1100, height: 760 });
      await page.screenshot({ path: path.join(__dirname, '..', '..', 'docs', 'images', 'desk-call.png') }); // prettier-ignore
    }
    const taken = await handle.query(stateQuery);
    assert.equal(taken.handoff?.status, 'with_human');
    assert.equal(taken.handoff?.agent, 'alice');
    const tookAt = Date.now();

    // Another agent may not talk into a call alice holds.
    const bob = await signIn('bob');
    const refused = await bob.evaluate(async (sid) => {
      const r = await fetch(`/desk/api/calls/${sid}/media/peers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'talk' }),
      });
      return r.status;
    }, callSid);
    assert.equal(refused, 403);

    // alice talks for a while, then hands the call back: her voice leaves the line.
    await sleep(15_000);
    await page.click('#hand-back');
    await page.locator('#media-status', { hasText: 'Audio closed' }).waitFor({ timeout: 10_000 });
    const handedAt = Date.now();

    const report = await call;
    // The line is paced in real time from the call's start (give or take its connect), so wall
    // clock since then gives audio positions; the report itself comes seconds after the hang-up.
    const line = report.recording.agent;
    const at = (wall: number) => Math.min(line.length, Math.floor(((wall - placedAt) * 8000) / 1000)); // prettier-ignore
    const withAlice = await wordsHeard(line.subarray(at(tookAt), at(handedAt)), HINTS);
    assert.match(withAlice, /refund/, `while alice had the call the caller heard "${withAlice}"`);
    // A second for the last packets in flight, then the assistant's line only.
    const after = await wordsHeard(line.subarray(at(handedAt + 1_000)), HINTS);
    assert.doesNotMatch(
      after,
      /refund|approved/,
      `after the hand-back the caller heard "${after}"`,
    );
    const state = await handle.query(stateQuery).catch(() => undefined);
    assert.notEqual(state?.handoff?.status, 'with_human');
  });
});
