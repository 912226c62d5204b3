// The agent desk in a real browser (headless Chromium through playwright-core) against a real
// edge server (its Fastify app, desk routes included) and a real Temporal dev server with the
// call worker: calls are driven into a transfer with the desk as hand-off target, as the edge
// would drive them. RECORD_SCREENSHOTS=1 saves the docs' picture of the calls list (docs/images/); the call page's
// is taken with its audio connected, in test/e2e/desk-call.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { stateQuery, transcriptQuery, type CallConfig } from '../../contracts/call';
import { loadEdgeConfig } from '../../media-edge/config';
import { deskFromEnv } from '../../media-edge/desk/desk-setup';
import { hashPassword } from '../../media-edge/desk/passwords';
import { buildEdgeServer } from '../../media-edge/server';
import { FakeObjectStore } from '../../providers/object-store/fake';
import { ADA, callWorker, postCallWorker, startCall } from '../../testing/calls';
import { localEnv, resetDb } from '../../testing/platform';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORDS = { alice: 'alice-password-1', bob: 'bob-password-22', sam: 'sam-password-333' };
const SCREENSHOTS = path.join(__dirname, '..', '..', 'docs', 'images');

describe('agent desk (headless Chromium, real edge and Temporal)', function () {
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];
  let edge: FastifyInstance;
  let base: string;
  let browser: Browser;
  let callConfig: Partial<CallConfig>;
  const recordings = new FakeObjectStore();
  const contexts: BrowserContext[] = [];

  before(async () => {
    env = await localEnv();
    await resetDb();
    workers = [await callWorker(env), await postCallWorker(env)];
    running = workers.map((w) => w.run());
    const edgeEnv = {
      TWILIO_AUTH_TOKEN: 'test-auth-token',
      EDGE_PUBLIC_URL: 'https://edge.example.com',
      STREAM_TOKEN_SECRET: 'stream-token-secret-for-tests-only-0123456789',
      HANDOFF_TARGET: 'desk',
      DESK_USERS: [
        `alice:agent:${await hashPassword(PASSWORDS.alice)}`,
        `bob:agent:${await hashPassword(PASSWORDS.bob)}`,
        `sam:supervisor:${await hashPassword(PASSWORDS.sam)}`,
      ].join(','),
      DESK_SESSION_SECRET: 'desk-session-secret-for-tests-only-0123456789',
    };
    const config = loadEdgeConfig(edgeEnv);
    callConfig = config.call;
    const desk = deskFromEnv(edgeEnv, { client: env.client, recordings, log: () => undefined });
    assert.ok('routes' in desk);
    edge = await buildEdgeServer({
      config,
      temporalClient: env.client,
      logger: pino({ level: 'silent' }),
      desk: desk.routes,
    });
    await edge.listen({ host: '127.0.0.1', port: 0 });
    const address = edge.server.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await edge?.close();
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
  });

  async function signedIn(user: keyof typeof PASSWORDS): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/desk/`);
    assert.equal(
      new URL(page.url()).pathname,
      '/desk/login',
      'the desk sends strangers to sign in',
    );
    await page.fill('input[name=name]', user);
    await page.fill('input[name=password]', PASSWORDS[user]);
    await Promise.all([page.waitForURL(`${base}/desk/`), page.click('button[type=submit]')]);
    return page;
  }

  /** A call the AI transferred to the desk, waiting for an agent. */
  async function waitingCall(firstWords = 'I want to talk to an agent') {
    const call = await startCall(env.client, { config: callConfig, from: ADA });
    await call.bridge.streamStarted();
    if (firstWords !== 'I want to talk to an agent') await call.bridge.utterance(firstWords);
    assert.equal((await call.bridge.utterance('I want to talk to an agent')).action, 'transfer');
    for (let i = 0; i < 100; i++) {
      if ((await call.handle.query(stateQuery)).handoff?.status === 'waiting') return call;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the call never waited for the desk');
  }

  const transcriptOf = (page: Page) => page.locator('#transcript li').allTextContents();
  /** A desk POST from the page itself (same origin, the page's session). */
  const postFrom = (page: Page, url: string) =>
    page.evaluate(async (u) => {
      const res = await fetch(u, { method: 'POST' });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    }, url);

  it('refuses anonymous requests on every desk route (pages go to sign-in, JSON is 401)', async () => {
    const sid = 'CA0123456789abcdef0123456789abcdef';
    const gets = ['/desk/', `/desk/calls/${sid}`, '/desk/assets/desk.js', '/desk/api/me', '/desk/api/calls', `/desk/api/calls/${sid}`, `/desk/api/calls/${sid}/recording`]; // prettier-ignore
    for (const route of gets) {
      const res = await fetch(base + route, { redirect: 'manual' });
      if (route.startsWith('/desk/api/')) assert.equal(res.status, 401, route);
      else {
        assert.equal(res.status, 302, route);
        assert.equal(res.headers.get('location'), '/desk/login', route);
      }
    }
    const posts = ['accept', 'hand-back', 'end', 'monitor?mode=listen'];
    for (const action of posts) {
      const res = await fetch(`${base}/desk/api/calls/${sid}/${action}`, { method: 'POST', headers: { origin: base } }); // prettier-ignore
      assert.equal(res.status, 401, action);
    }
    // A forged session cookie is nobody.
    const forged = Buffer.from(JSON.stringify({ u: 'sam', r: 'supervisor', x: Date.now() + 60_000 })).toString('base64url'); // prettier-ignore
    const res = await fetch(`${base}/desk/api/calls`, { headers: { cookie: `switchboard_desk=${forged}.AAAA` } }); // prettier-ignore
    assert.equal(res.status, 401);
  });

  it('an edge without desk users serves no desk at all', async () => {
    const edgeEnv = { TWILIO_AUTH_TOKEN: 't', EDGE_PUBLIC_URL: 'https://edge.example.com', STREAM_TOKEN_SECRET: 'stream-token-secret-for-tests-only-0123456789' }; // prettier-ignore
    const desk = deskFromEnv(edgeEnv, { client: env.client, recordings, log: () => undefined });
    assert.deepEqual(desk, { off: 'DESK_USERS is not set: the agent desk is not served' });
    const bare = await buildEdgeServer({ config: loadEdgeConfig(edgeEnv), temporalClient: env.client, logger: pino({ level: 'silent' }) }); // prettier-ignore
    for (const url of ['/desk/', '/desk/login', '/desk/api/calls'])
      assert.equal((await bare.inject({ url })).statusCode, 404, url);
    await bare.close();
  });

  it('refuses a wrong password and sets no session', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/desk/login`);
    await page.fill('input[name=name]', 'alice');
    await page.fill('input[name=password]', 'not-her-password');
    await page.click('button[type=submit]');
    await page.locator('#login-error').waitFor();
    assert.match(await page.locator('#login-error').innerText(), /Wrong name or password/);
    assert.deepEqual(await context.cookies(), []);
    const api = await page.evaluate(async () => (await fetch('/desk/api/calls')).status);
    assert.equal(api, 401);
  });

  it('refuses a name after five wrong passwords from one address', async () => {
    const attempt = () =>
      fetch(`${base}/desk/login`, {
        method: 'POST',
        headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=mallory&password=guess-number-n',
      });
    for (let i = 0; i < 5; i++) assert.equal((await attempt()).status, 401);
    assert.equal((await attempt()).status, 429);
  });

  it('refuses a POST from another origin even with a session', async () => {
    const page = await signedIn('alice');
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(`${base}/desk/api/calls/CAabc/accept`, { method: 'POST', headers: { cookie, origin: 'https://evil.example.com' } }); // prettier-ignore
    assert.equal(res.status, 403);
  });

  it('an agent takes a waiting call, talks while the AI is silent, hands it back; the AI answers', async () => {
    const call = await waitingCall('what is my balance');
    const page = await signedIn('alice');
    const row = page.locator(`#live-calls tr[data-call-sid="${call.callSid}"]`);
    await row.locator('.badge.waiting').waitFor();
    assert.match(await row.innerText(), /\+15550100001/);
    if (process.env.RECORD_SCREENSHOTS === '1')
      await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-calls.png') });
    await Promise.all([page.waitForURL(`**/desk/calls/${call.callSid}`), row.locator('a').click()]); // prettier-ignore
    await page
      .locator('#transcript li.caller', { hasText: 'I want to talk to an agent' })
      .waitFor();
    assert.match(await page.locator('#summary').innerText(), /is calling\. They asked about: .*talk to agent/); // prettier-ignore

    await page.click('#take-over');
    await page.locator('#state', { hasText: 'with human · alice' }).waitFor();
    assert.equal((await call.handle.query(stateQuery)).handoff?.status, 'with_human');
    // No media client on this page: it says so instead of failing silently.
    assert.match(await page.locator('#media-status').innerText(), /Audio is unavailable/);

    const silent = await call.bridge.utterance('my router keeps blinking red');
    assert.equal(silent.text, '', 'the AI says nothing while a human has the call');
    await page.locator('#transcript li.caller', { hasText: 'my router keeps blinking red' }).waitFor(); // prettier-ignore

    await page.click('#hand-back');
    await page.locator('#transcript li.agent', { hasText: "You're back with the assistant" }).waitFor(); // prettier-ignore
    const answered = await call.bridge.utterance('what is my balance');
    assert.match(answered.text, /balance/i);
    await page.locator('#transcript li.agent', { hasText: answered.text.split('.')[0]! }).waitFor(); // prettier-ignore
    await call.bridge.utterance('goodbye');
    assert.equal((await call.handle.result()).disposition, 'resolved');
  });

  it('an agent ends the call from the desk: the workflow ends; its recording is theirs and the supervisor’s to play', async () => {
    const call = await waitingCall();
    const page = await signedIn('alice');
    await page.goto(`${base}/desk/calls/${call.callSid}`);
    await page.locator('#take-over:enabled').waitFor();
    await page.click('#take-over');
    await page.locator('#end-call:enabled').waitFor();
    const key = `recordings/${call.callSid}.wav`;
    await recordings.put(key, Buffer.from('RIFF-test-recording'));
    await call.bridge.recordingReady({ key, durationMs: 1000, truncated: false });
    await page.click('#end-call');
    const result = await call.handle.result();
    assert.equal(result.disposition, 'transferred');
    assert.equal(result.handledBy, 'alice');
    await page.locator('#state', { hasText: 'ended' }).waitFor();
    await page.locator('#recording-panel:not([hidden])').waitFor();

    const play = (p: Page) => p.evaluate(async (u) => (await fetch(u)).status, `/desk/api/calls/${call.callSid}/recording`); // prettier-ignore
    assert.equal(await play(page), 200);
    assert.equal(await play(await signedIn('bob')), 403, 'another agent may not play it');
    assert.equal(await play(await signedIn('sam')), 200, 'a supervisor may');
  });

  it('a second agent accepting a taken call gets a clear error; an agent may not listen in', async () => {
    const call = await waitingCall();
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    const accept = `/desk/api/calls/${call.callSid}/accept`;
    const [a, b] = await Promise.all([postFrom(alice, accept), postFrom(bob, accept)]);
    const won = [a, b].filter((r) => r.status === 200);
    const lost = [a, b].filter((r) => r.status === 409);
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.match(lost[0]!.body.error ?? '', /already taken by (alice|bob)/);

    const monitor = `/desk/api/calls/${call.callSid}/monitor?mode=listen`;
    assert.equal((await postFrom(bob, monitor)).status, 403);
    const sam = await signedIn('sam');
    assert.equal((await postFrom(sam, monitor)).status, 200);
    await sam.goto(`${base}/desk/calls/${call.callSid}`);
    await sam.click('#listen');
    await sam.locator('#media-status', { hasText: 'Audio is unavailable' }).waitFor();
    await bob.goto(`${base}/desk/calls/${call.callSid}`);
    assert.equal(await bob.locator('#listen').count(), 0, 'agents have no Listen button');
    await call.handle.signal('callStatus', 'completed');
    await call.handle.result();
  });

  it('two calls at once: each call page shows only its own transcript', async () => {
    const one = await waitingCall();
    const two = await waitingCall();
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    await alice.goto(`${base}/desk/calls/${one.callSid}`);
    await bob.goto(`${base}/desk/calls/${two.callSid}`);
    await alice.click('#take-over');
    await bob.click('#take-over');
    await alice.locator('#state', { hasText: 'alice' }).waitFor();
    await bob.locator('#state', { hasText: 'bob' }).waitFor();
    await one.bridge.utterance('this is caller one speaking');
    await two.bridge.utterance('this is caller two speaking');
    await alice.locator('#transcript li', { hasText: 'caller one speaking' }).waitFor();
    await bob.locator('#transcript li', { hasText: 'caller two speaking' }).waitFor();
    const a = (await transcriptOf(alice)).join('\n');
    const b = (await transcriptOf(bob)).join('\n');
    assert.doesNotMatch(a, /caller two/);
    assert.doesNotMatch(b, /caller one/);
    assert.equal((await one.handle.query(transcriptQuery)).some((l) => /caller two/.test(l.text)), false); // prettier-ignore
    await Promise.all([one, two].map((c) => c.handle.signal('callStatus', 'completed')));
    await Promise.all([one.handle.result(), two.handle.result()]);
  });
});
