// The desk's sign-in pieces without a server: password hashes, the DESK_USERS list, the signed
// session cookie (tampered, expired, a user removed or moved to another role), same-origin POSTs.
import assert from 'node:assert/strict';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DeskAuth, SESSION_COOKIE, sameOrigin } from '../../media-edge/desk/desk-auth';
import { loadDeskConfig, parseUsers, type DeskConfig } from '../../media-edge/desk/desk-config';
import { hashPassword, verifyPassword } from '../../media-edge/desk/passwords';
import { SignInThrottle } from '../../media-edge/desk/sign-in-throttle';
import { deskUserEntry } from '../../cli/desk-user';

const SECRET = 'desk-session-secret-for-unit-tests-0123456789';

describe('agent desk authentication', function () {
  let aliceHash: string;
  before(async () => {
    aliceHash = await hashPassword('alice-password-1');
  });

  it('hashes with a fresh salt and verifies only the right password', async () => {
    const again = await hashPassword('alice-password-1');
    assert.notEqual(again, aliceHash, 'a random salt per hash');
    assert.doesNotMatch(aliceHash, /alice-password/);
    assert.equal(await verifyPassword('alice-password-1', aliceHash), true);
    assert.equal(await verifyPassword('alice-password-2', aliceHash), false);
    await assert.rejects(hashPassword('short'), /at least 8/);
  });

  it('reads DESK_USERS and names a bad entry without its hash', () => {
    const users = parseUsers(`alice:agent:${aliceHash}, sam:supervisor:${aliceHash}`);
    assert.deepEqual([...users.keys()], ['alice', 'sam']);
    assert.equal(users.get('sam')?.role, 'supervisor');
    assert.throws(() => parseUsers(`alice:admin:${aliceHash}`), /entry 1 \(alice\): the role/);
    assert.throws(() => parseUsers('bob:agent:hunter2'), (err: Error) => /entry 1 \(bob\): the password/.test(err.message) && !err.message.includes('hunter2')); // prettier-ignore
    assert.throws(() => parseUsers(`a:agent:${aliceHash},a:agent:${aliceHash}`), /listed twice/);
  });

  it('serves no desk without users, and refuses users without a session secret', () => {
    assert.deepEqual(loadDeskConfig({}), { off: 'DESK_USERS is not set: the agent desk is not served' }); // prettier-ignore
    assert.throws(() => loadDeskConfig({ DESK_USERS: `alice:agent:${aliceHash}` }), /DESK_SESSION_SECRET is required/); // prettier-ignore
    assert.throws(() => loadDeskConfig({ DESK_USERS: `alice:agent:${aliceHash}`, DESK_SESSION_SECRET: 'short' }), /at least 32/); // prettier-ignore
  });

  it('the CLI entry is accepted by the edge and verifies the password typed', async () => {
    const entry = await deskUserEntry('dana', 'supervisor', 'dana-password-9');
    const users = parseUsers(entry);
    assert.equal(await verifyPassword('dana-password-9', users.get('dana')!.passwordHash), true);
    await assert.rejects(deskUserEntry('dana', 'boss', 'dana-password-9'), /the role/);
  });

  describe('the session cookie', () => {
    let now = 1_000_000;
    let config: DeskConfig;
    let auth: DeskAuth;
    before(() => {
      config = { users: parseUsers(`alice:agent:${aliceHash}`), sessionSecret: SECRET, sessionTtlMs: 60_000 }; // prettier-ignore
      auth = new DeskAuth(config, () => now);
    });

    /** Signs alice in and returns her cookie's value. */
    async function session(): Promise<string> {
      const user = await auth.login('alice', 'alice-password-1');
      assert.deepEqual(user, { name: 'alice', role: 'agent' });
      let header = '';
      auth.startSession({ header: (_: string, v: string) => (header = v) } as unknown as FastifyReply, user, true); // prettier-ignore
      assert.match(header, /HttpOnly; SameSite=Strict; Secure$/);
      return header.split(';')[0]!.slice(SESSION_COOKIE.length + 1);
    }
    const request = (cookie?: string) => ({ headers: cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {} }) as FastifyRequest; // prettier-ignore

    it('names the signed-in user until it expires', async () => {
      now = 1_000_000;
      const token = await session();
      assert.deepEqual(auth.authenticate(request(token)), { name: 'alice', role: 'agent' });
      assert.equal(auth.authenticate(request()), undefined);
      now += 60_001;
      assert.equal(auth.authenticate(request(token)), undefined, 'expired');
    });

    it('refuses a tampered cookie, an unknown user and a wrong password', async () => {
      now = 1_000_000;
      const [body, mac] = (await session()).split('.');
      const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as { r: string };
      const promoted = Buffer.from(JSON.stringify({ ...claims, r: 'supervisor' })).toString('base64url'); // prettier-ignore
      assert.equal(auth.authenticate(request(`${promoted}.${mac}`)), undefined);
      assert.equal(await auth.login('alice', 'wrong-password'), undefined);
      assert.equal(await auth.login('mallory', 'alice-password-1'), undefined);
    });

    it('a user removed from DESK_USERS is out at the next request', async () => {
      now = 1_000_000;
      const token = await session();
      const without = new DeskAuth({ ...config, users: new Map() }, () => now);
      assert.equal(without.authenticate(request(token)), undefined);
    });
  });

  it('throttles wrong passwords per name and address, for the window only', () => {
    let now = 0;
    const throttle = new SignInThrottle(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(throttle.blocked('alice', '10.0.0.1'), false);
      throttle.failed('alice', '10.0.0.1');
    }
    assert.equal(throttle.blocked('alice', '10.0.0.1'), true);
    assert.equal(throttle.blocked('alice', '10.0.0.2'), false, 'another address is not locked out');
    assert.equal(throttle.blocked('bob', '10.0.0.1'), false, 'another name is not either');
    now += 60_001;
    assert.equal(throttle.blocked('alice', '10.0.0.1'), false, 'the window has passed');
    throttle.failed('bob', '10.0.0.1');
    throttle.succeeded('bob', '10.0.0.1');
    assert.equal(throttle.blocked('bob', '10.0.0.1'), false);
  });

  it('a POST is same-origin by its Origin header, else by Sec-Fetch-Site', () => {
    const req = (headers: Record<string, string>) => ({ protocol: 'https', headers: { host: 'edge.example.com', ...headers } }) as unknown as FastifyRequest; // prettier-ignore
    assert.equal(sameOrigin(req({ origin: 'https://edge.example.com' })), true);
    assert.equal(sameOrigin(req({ origin: 'https://evil.example.com' })), false);
    assert.equal(sameOrigin(req({ 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(sameOrigin(req({ 'sec-fetch-site': 'cross-site' })), false);
    assert.equal(sameOrigin(req({})), false);
  });
});
