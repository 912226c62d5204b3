// The agent desk's routes under /desk, served by the edge (the desk's WebRTC must reach the
// router that holds the call). Sign-in and sign-out are the only routes without a user; every
// other one — pages, the script, JSON, recordings — answers 401 (JSON) or a redirect to the
// sign-in page (pages) without a valid session, and 403 to a POST from another origin or to
// an agent on a supervisor's route. Agents take over, hand back and end the calls they hold
// and play the recordings of calls they handled; supervisors also listen in, whisper, and play
// any recording.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ObjectStore } from '../../providers/object-store/port';
import { DeskActionRefused, type DeskCalls } from './desk-calls';
import { sameOrigin, type DeskAuth } from './desk-auth';
import { DESK_PAGE_SCRIPT } from './desk-page-script';
import { callPage, callsPage, loginPage, type PageOptions } from './desk-pages';
import type { DeskUser } from './desk-user';
import { SignInThrottle } from './sign-in-throttle';

export const DESK_PREFIX = '/desk';

export interface DeskRoutesOptions {
  auth: DeskAuth;
  calls: DeskCalls;
  /** The recordings bucket's store (the edge's S3 store): finished calls' audio. */
  recordings: Pick<ObjectStore, 'get'>;
  /** Script URLs of the browser media client that defines window.deskMedia (none: no audio). */
  mediaScripts?: readonly string[];
  /** Wrong passwords per name and address (default: 5 in 15 min, then refused for the rest). */
  throttle?: SignInThrottle;
  log(msg: string, fields?: Record<string, unknown>): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    deskUser?: DeskUser;
  }
}

const PUBLIC = new Set([`${DESK_PREFIX}/login`]);
const CALL_SID = /^[A-Za-z0-9]{2,64}$/;
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export async function deskRoutes(app: FastifyInstance, opts: DeskRoutesOptions): Promise<void> {
  const { auth, calls } = opts;
  const pages: PageOptions = { mediaScripts: opts.mediaScripts ?? [] };
  const secure = (req: FastifyRequest) => req.protocol === 'https';
  const throttle = opts.throttle ?? new SignInThrottle();

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    const path = req.url.split('?')[0]!;
    if (req.method === 'POST' && !sameOrigin(req))
      return reply.code(403).send({ error: 'cross-site request refused' });
    if (PUBLIC.has(path)) return;
    const user = auth.authenticate(req);
    if (!user) {
      if (path.startsWith(`${DESK_PREFIX}/api/`) || req.method !== 'GET')
        return reply.code(401).send({ error: 'sign in first' });
      return reply.redirect(`${DESK_PREFIX}/login`);
    }
    req.deskUser = user;
  });

  const userOf = (req: FastifyRequest): DeskUser => req.deskUser!;
  const html = (reply: FastifyReply, body: string, code = 200) =>
    reply.code(code).type('text/html; charset=utf-8').send(body);
  const callSidOf = (req: FastifyRequest): string | undefined => {
    const { callSid } = req.params as { callSid?: string };
    return callSid && CALL_SID.test(callSid) ? callSid : undefined;
  };

  app.get(`${DESK_PREFIX}/login`, async (req, reply) =>
    auth.authenticate(req) ? reply.redirect(`${DESK_PREFIX}/`) : html(reply, loginPage()),
  );
  app.post(`${DESK_PREFIX}/login`, async (req, reply) => {
    const { name, password } = (req.body ?? {}) as { name?: unknown; password?: unknown };
    const who = typeof name === 'string' ? name.slice(0, 64) : '';
    if (throttle.blocked(who, req.ip)) {
      opts.log('desk sign-in throttled', { name: who, ip: req.ip });
      return html(reply, loginPage('Too many wrong passwords: try again later.'), 429);
    }
    const user =
      typeof name === 'string' && typeof password === 'string' && password.length <= 1024
        ? await auth.login(name, password)
        : undefined;
    if (!user) {
      throttle.failed(who, req.ip);
      opts.log('desk sign-in refused', { name: who, ip: req.ip });
      return html(reply, loginPage('Wrong name or password.'), 401);
    }
    throttle.succeeded(who, req.ip);
    auth.startSession(reply, user, secure(req));
    opts.log('desk sign-in', { user: user.name, role: user.role });
    return reply.redirect(`${DESK_PREFIX}/`, 303);
  });
  app.post(`${DESK_PREFIX}/logout`, async (req, reply) => {
    auth.endSession(reply, secure(req));
    return reply.redirect(`${DESK_PREFIX}/login`, 303);
  });

  app.get(`${DESK_PREFIX}/`, async (req, reply) => html(reply, callsPage(userOf(req), pages)));
  app.get(`${DESK_PREFIX}/calls/:callSid`, async (req, reply) => {
    const callSid = callSidOf(req);
    if (!callSid) return reply.code(404).send({ error: 'no such call' });
    return html(reply, callPage(userOf(req), callSid, pages));
  });
  app.get(`${DESK_PREFIX}/assets/desk.js`, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').send(DESK_PAGE_SCRIPT),
  );

  app.get(`${DESK_PREFIX}/api/me`, async (req) => userOf(req));
  app.get(`${DESK_PREFIX}/api/calls`, async () => {
    const [live, finished] = await Promise.all([calls.live(), calls.finished()]);
    return { live, finished };
  });
  app.get(`${DESK_PREFIX}/api/calls/:callSid`, async (req, reply) => {
    const callSid = callSidOf(req);
    const call = callSid && (await calls.call(callSid));
    return call || reply.code(404).send({ error: 'no such call' });
  });

  const action = (path: string, run: (callSid: string, agent: string) => Promise<unknown>) =>
    app.post(`${DESK_PREFIX}/api/calls/:callSid/${path}`, async (req, reply) => {
      const callSid = callSidOf(req);
      if (!callSid) return reply.code(404).send({ error: 'no such call' });
      const user = userOf(req);
      try {
        const handoff = await run(callSid, user.name);
        opts.log(`desk ${path}`, { user: user.name, callSid });
        return { handoff };
      } catch (err) {
        if (err instanceof DeskActionRefused) return reply.code(409).send({ error: err.message });
        throw err;
      }
    });
  action('accept', (sid, agent) => calls.accept(sid, agent));
  action('hand-back', (sid, agent) => calls.handBack(sid, agent));
  action('end', (sid, agent) => calls.end(sid, agent));

  // Supervisors only: listening in and whispering are noted (who, which call), then the
  // page joins the call's audio through the media client.
  app.post(`${DESK_PREFIX}/api/calls/:callSid/monitor`, async (req, reply) => {
    const user = userOf(req);
    if (user.role !== 'supervisor')
      return reply.code(403).send({ error: 'only a supervisor may listen in or whisper' });
    const callSid = callSidOf(req);
    const { mode } = req.query as { mode?: string };
    if (!callSid || (mode !== 'listen' && mode !== 'whisper'))
      return reply.code(400).send({ error: 'a call and a mode (listen or whisper) are required' });
    const call = await calls.call(callSid);
    if (!call?.live) return reply.code(409).send({ error: 'the call is not live' });
    opts.log('desk monitor', { user: user.name, callSid, mode });
    return { callSid, mode };
  });

  app.get(`${DESK_PREFIX}/api/calls/:callSid/recording`, async (req, reply) => {
    const callSid = callSidOf(req);
    const result = callSid ? await calls.result(callSid) : undefined;
    if (!result?.recording) return reply.code(404).send({ error: 'no recording for this call' });
    const user = userOf(req);
    if (user.role !== 'supervisor' && result.handledBy !== user.name)
      return reply.code(403).send({ error: 'only a supervisor or the agent who had the call may play it' }); // prettier-ignore
    const audio = await opts.recordings.get(result.recording.key);
    if (!audio) return reply.code(404).send({ error: 'the recording is not in the store (yet)' });
    opts.log('desk recording played', { user: user.name, callSid });
    return reply.type('audio/wav').send(audio);
  });
}
