// Who is signed in to the desk: a session cookie signed with HMAC-SHA256 (DESK_SESSION_SECRET)
// that names the user, the role and when it expires; HttpOnly, SameSite=Strict, Secure behind
// https. Each request is checked against the configured users, so a user removed from
// DESK_USERS (or given another role) is out at their next request. A state-changing request
// must also come from the desk's own origin (Origin header, else Sec-Fetch-Site).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DeskConfig } from './desk-config';
import type { AuthenticateDeskUser, DeskRole, DeskUser } from './desk-user';
import { verifyPassword } from './passwords';

export const SESSION_COOKIE = 'switchboard_desk';

interface SessionClaims {
  u: string;
  r: DeskRole;
  /** Expiry, epoch ms. */
  x: number;
}

export class DeskAuth {
  constructor(
    private readonly config: DeskConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user behind a request, from its session cookie; undefined for anyone else. */
  readonly authenticate: AuthenticateDeskUser = (request) => {
    const token = readCookie(request.headers.cookie, SESSION_COOKIE);
    return token === undefined ? undefined : this.userOf(token);
  };

  /** The user for a name and password; undefined (after the same work) when either is wrong. */
  async login(name: string, password: string): Promise<DeskUser | undefined> {
    const account = this.config.users.get(name);
    // An unknown name costs a hash check too, so timing does not tell which names exist.
    const ok = await verifyPassword(password, account?.passwordHash ?? UNKNOWN_USER_HASH);
    return ok && account ? { name, role: account.role } : undefined;
  }

  /** Sets the signed session cookie for the user. */
  startSession(reply: FastifyReply, user: DeskUser, secure: boolean): void {
    const claims: SessionClaims = { u: user.name, r: user.role, x: this.now() + this.config.sessionTtlMs }; // prettier-ignore
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const token = `${body}.${this.sign(body)}`;
    reply.header('set-cookie', cookie(token, Math.floor(this.config.sessionTtlMs / 1000), secure));
  }

  endSession(reply: FastifyReply, secure: boolean): void {
    reply.header('set-cookie', cookie('', 0, secure));
  }

  private userOf(token: string): DeskUser | undefined {
    const [body, mac] = token.split('.');
    if (!body || !mac) return undefined;
    const expected = Buffer.from(this.sign(body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: SessionClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionClaims;
    } catch {
      return undefined;
    }
    if (typeof claims.x !== 'number' || claims.x <= this.now()) return undefined;
    const account = this.config.users.get(claims.u);
    if (!account || account.role !== claims.r) return undefined;
    return { name: claims.u, role: account.role };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.config.sessionSecret).update(body).digest('base64url');
  }
}

/** A request that changes something came from a page of this desk, not from another site. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin) return origin === `${request.protocol}://${request.headers.host}`;
  return request.headers['sec-fetch-site'] === 'same-origin';
}

function cookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/desk; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`; // prettier-ignore
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

/** A valid hash no password is known for (checked against an unknown user's attempt). */
const UNKNOWN_USER_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
