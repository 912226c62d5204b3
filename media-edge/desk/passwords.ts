// Desk users' password hashes: scrypt with a random salt, compared in constant time. Only the
// hash is configured (DESK_USERS); `switchboard desk-user` makes one from a typed password.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt's cost (N = 2^14, r = 8, p = 1: ≈ 16 MB and tens of ms per check). */
const COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const PREFIX = 'scrypt';

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, opts, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$key` (base64url): no `:` or `,`, so it sits inside DESK_USERS. */
export async function hashPassword(password: string): Promise<string> {
  if (password.length < 8) throw new Error('a desk password has at least 8 characters');
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return [PREFIX, COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$'); // prettier-ignore
}

/** Throws on a hash that is not of this format (a configuration error, said at start). */
export function checkHashFormat(hash: string): void {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX || parts.slice(1, 4).some((n) => !/^\d+$/.test(n)))
    throw new Error('is not a scrypt hash from `switchboard desk-user`');
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  checkHashFormat(hash);
  const [, n, r, p, salt, key] = hash.split('$') as [string, string, string, string, string, string]; // prettier-ignore
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
