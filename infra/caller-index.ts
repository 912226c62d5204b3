// The caller's number as Temporal indexes it (search attribute CallerNumber): a keyed hash, so
// calls can still be found by number while the server never holds one. One index per history
// key: a call indexed under a key since rotated out of first place is found by that key's.
import { createHmac } from 'node:crypto';
import { payloadKeysFromEnv, type PayloadKey } from './payload-codec';

/** A key of its own per purpose, derived from the history key: never the AES key itself. */
const indexKey = (k: PayloadKey) => createHmac('sha256', k.key).update('caller-number-index').digest(); // prettier-ignore

const indexUnder = (k: PayloadKey, number: string) =>
  `${k.id}.${createHmac('sha256', indexKey(k)).update(number).digest('base64url').slice(0, 22)}`;

/** The index a new call gets (under the first key). */
export const callerNumberIndex = (number: string, env: NodeJS.ProcessEnv = process.env): string =>
  indexUnder(payloadKeysFromEnv(env)[0]!, number);

/** Every index the number may have been given: search with `CallerNumber IN (…)`. */
export function callerNumberQuery(number: string, env: NodeJS.ProcessEnv = process.env): string {
  const all = payloadKeysFromEnv(env).map((k) => `'${indexUnder(k, number)}'`);
  return `CallerNumber IN (${all.join(', ')})`;
}
