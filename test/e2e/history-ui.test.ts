// The Temporal Web UI in a real browser (Debian's Chromium) reads an encrypted call through the
// history codec, as `./switchboard start` runs them: the dev server's UI pointed at the codec
// with --ui-codec-endpoint.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { ensureTemporalBinaries } from '../../infra';
import { buildCodecServer } from '../../infra/codec-server';
import { historyDataConverter, payloadCodecFromEnv } from '../../infra/payload-codec';
import { callWorkflowId, type CallInput } from '../../contracts/call';
import { CHROMIUM } from '../../testing/desk-browser';
import { newCallSid, payloadText } from '../../testing/calls';

/** A port free now (the dev server's UI takes a port, not a listener). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe('the Web UI shows encrypted history decrypted by the history codec (Chromium)', function () {
  this.timeout(180_000);
  let codec: FastifyInstance;
  let env: TestWorkflowEnvironment;
  let browser: Browser;
  let ui: string;
  const asked: string[] = [];

  before(async () => {
    const uiPort = await freePort();
    ui = `http://127.0.0.1:${uiPort}`;
    codec = buildCodecServer(payloadCodecFromEnv(), { origins: [ui] });
    codec.addHook('onRequest', async (req) => void asked.push(req.url));
    await codec.listen({ host: '127.0.0.1', port: 0 });
    const codecUrl = `http://127.0.0.1:${(codec.server.address() as AddressInfo).port}`;
    env = await TestWorkflowEnvironment.createLocal({
      client: { dataConverter: historyDataConverter() },
      server: {
        executable: { type: 'existing-path', path: (await ensureTemporalBinaries()).temporal },
        ui: true,
        uiPort,
        extraArgs: ['--ui-codec-endpoint', codecUrl, '--ui-disable-news-fetch'],
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await env?.teardown();
    await codec?.close();
  });

  it("the caller's number is ciphertext in the server's history and text on the UI's page", async () => {
    const callSid = newCallSid();
    const from = '+15550107777';
    const input: CallInput = { callSid, from, to: '+15550009999' };
    // No worker: the started event's input is all the page needs.
    const handle = await env.client.workflow.start('callWorkflow', {
      taskQueue: `ui-test-${callSid}`,
      workflowId: callWorkflowId(callSid),
      args: [input],
    });
    assert.ok(!payloadText(await handle.fetchHistory()).includes(from), 'plaintext on the server');

    const page = await browser.newPage();
    try {
      await page.goto(`${ui}/namespaces/default/workflows/${handle.workflowId}`);
      await page.getByText(from).first().waitFor({ timeout: 60_000 });
      assert.ok(
        asked.some((u) => u.startsWith('/decode')),
        'the page asked the codec',
      );
    } finally {
      await page.close();
      await handle.terminate('test over');
    }
  });
});
