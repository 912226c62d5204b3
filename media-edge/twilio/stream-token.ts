// Per-call token handed to Twilio inside the TwiML <Stream>; the media WebSocket accepts a
// stream only with a token for that call that has not expired. Stateless: any edge host
// with the secret can verify it.
//
// Format: base64url("<callSid>.<expiresAtMs>") "." base64url(HMAC-SHA256(secret, domain + payload))
import { createHmac, timingSafeEqual } from 'node:crypto';

export type StreamTokenFailure = 'malformed' | 'bad_signature' | 'wrong_call' | 'expired';
export type StreamTokenResult =
  { ok: true; expiresAtMs: number } | { ok: false; reason: StreamTokenFailure };

// Domain separation: the same secret can never produce a valid token for another purpose.
const DOMAIN = 'switchboard.stream-token.v1\n';

const sign = (secret: string, payload: string): Buffer =>
  createHmac('sha256', secret).update(DOMAIN).update(payload).digest();

export function issueStreamToken(
  secret: string,
  callSid: string,
  ttlMs: number,
  now: number = Date.now(),
): string {
  const payload = `${callSid}.${Math.floor(now + ttlMs)}`;
  const encoded = Buffer.from(payload, 'utf8').toString('base64url');
  return `${encoded}.${sign(secret, payload).toString('base64url')}`;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

export function verifyStreamToken(
  secret: string,
  token: string,
  callSid: string,
  now: number = Date.now(),
): StreamTokenResult {
  const parts = token.split('.');
  if (parts.length !== 2 || !B64URL.test(parts[0] ?? '') || !B64URL.test(parts[1] ?? '')) {
    return { ok: false, reason: 'malformed' };
  }
  const payload = Buffer.from(parts[0]!, 'base64url').toString('utf8');
  const match = /^(.+)\.(\d{1,16})$/.exec(payload);
  if (!match) return { ok: false, reason: 'malformed' };

  // Signature first: nothing about an unsigned token (its call, its expiry) is trusted.
  const expected = sign(secret, payload);
  const given = Buffer.from(parts[1]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature' };
  }
  if (match[1] !== callSid) return { ok: false, reason: 'wrong_call' };
  const expiresAtMs = Number(match[2]);
  if (now >= expiresAtMs) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAtMs };
}
