// The agent desk's media client in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core), for the desk's WebRTC tests and the bridge bench. One browser process per
// fake microphone (Chromium plays a WAV file as its only capture device, on a loop); one
// context and page per desk user. The page is an empty document from the server under test with its /desk/media.js.
import { writeFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { encodeWav } from '../audio/wav';
import type { PcmAudio } from '../providers/stt/port';

/** Debian's chromium package (npm's browser downloads do not work offline). */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches Chromium with `wav` as its microphone (written out as a 16-bit PCM file). */
export async function launchWithMicrophone(
  audio: PcmAudio | undefined,
  wavPath: string,
): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ];
  if (audio) {
    await writeFile(
      wavPath,
      encodeWav({ channels: [audio.samples], sampleRate: audio.sampleRate }),
    );
    args.push(`--use-file-for-fake-audio-capture=${wavPath}`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args });
}

/** A session as the page's `window.deskMedia.join` returns it (media-edge/desk/client). */
export interface PageSession {
  peerId: string;
  voices(): { producerId: string; source: string }[];
  stats(): Promise<
    { producerId: string; source: string; packetsReceived: number; totalAudioEnergy: number }[]
  >;
  packetsSent(): Promise<number>;
  leave(): Promise<void>;
}

interface PageGlobals {
  deskMedia: {
    join(opts: {
      callSid: string;
      mode: string;
      input?: string;
      onEnded?: () => void;
    }): Promise<PageSession>;
  };
  sessions: Record<string, PageSession>;
  ended: Record<string, boolean>;
}

/** A desk user's page: every request carries `headers` (the test's sign-in). */
export async function deskPage(
  browser: Browser,
  baseUrl: string,
  headers: Record<string, string>,
): Promise<Page> {
  const context = await browser.newContext({ extraHTTPHeaders: headers });
  // tsx compiles with esbuild's keepNames, which wraps functions in __name(…): page.evaluate
  // ships those functions' source to the page, so the page needs a __name too.
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  const page = await context.newPage();
  await page.goto(`${baseUrl}/desk/media-test`);
  await page.addScriptTag({ url: `${baseUrl}/desk/media.js` });
  await page.waitForFunction(
    () => typeof (globalThis as unknown as PageGlobals).deskMedia?.join === 'function',
  );
  await page.evaluate(() => {
    (globalThis as unknown as PageGlobals).sessions = {};
    (globalThis as unknown as PageGlobals).ended = {};
  });
  return page;
}

/** Joins a call from the page; the session is kept in the page under `key`. */
export async function joinFromPage(
  page: Page,
  key: string,
  opts: { callSid: string; mode: string; input?: string },
): Promise<{ peerId: string; startedAt: number }> {
  return page.evaluate(
    async ({ key, opts }) => {
      const g = globalThis as unknown as PageGlobals;
      const startedAt = Date.now();
      const session = await g.deskMedia.join({ ...opts, onEnded: () => (g.ended[key] = true) });
      g.sessions[key] = session;
      return { peerId: session.peerId, startedAt };
    },
    { key, opts },
  );
}

export function sessionStats(page: Page, key: string) {
  return page.evaluate((key) => (globalThis as unknown as PageGlobals).sessions[key]!.stats(), key);
}

/** Date.now() in the page when the voice from `source` first has a packet (polled every 5 ms). */
export function firstPacketAt(page: Page, key: string, source: string): Promise<number> {
  return page.evaluate(
    async ({ key, source }) => {
      const session = (globalThis as unknown as PageGlobals).sessions[key]!;
      for (;;) {
        const heard = (await session.stats()).find((s) => s.source === source);
        if (heard && heard.packetsReceived > 0) return Date.now();
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    { key, source },
  );
}

export function sessionVoices(page: Page, key: string) {
  return page.evaluate(
    (key) => (globalThis as unknown as PageGlobals).sessions[key]!.voices(),
    key,
  );
}

export function sessionPacketsSent(page: Page, key: string) {
  return page.evaluate(
    (key) => (globalThis as unknown as PageGlobals).sessions[key]!.packetsSent(),
    key,
  );
}

export function sessionEnded(page: Page, key: string) {
  return page.evaluate((key) => (globalThis as unknown as PageGlobals).ended[key] === true, key);
}

export function leaveFromPage(page: Page, key: string) {
  return page.evaluate((key) => (globalThis as unknown as PageGlobals).sessions[key]!.leave(), key);
}
