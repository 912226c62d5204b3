// The caller's number as Temporal indexes it: a keyed hash, searchable across key rotation.
import assert from 'node:assert/strict';
import { callerNumberIndex, callerNumberQuery } from '../../infra/caller-index';
import { newPayloadKeys } from '../../infra/payload-codec';

describe('caller number index (search attribute CallerNumber)', () => {
  const old = { PAYLOAD_ENCRYPTION_KEYS: newPayloadKeys('2026-01') };
  const rotated = { PAYLOAD_ENCRYPTION_KEYS: `${newPayloadKeys('2026-06')},${old.PAYLOAD_ENCRYPTION_KEYS}` }; // prettier-ignore

  it('is the same for the same number and key, different for another number, and holds no digits of it', () => {
    const a = callerNumberIndex('+15550100001', old);
    assert.equal(callerNumberIndex('+15550100001', old), a);
    assert.notEqual(callerNumberIndex('+15550100002', old), a);
    assert.match(a, /^2026-01\.[A-Za-z0-9_-]{22}$/);
    assert.ok(!a.includes('5550100001'));
  });

  it('under another key the same number has another index (the key is the secret)', () => {
    const other = { PAYLOAD_ENCRYPTION_KEYS: newPayloadKeys('2026-01') };
    assert.notEqual(callerNumberIndex('+15550100001', other), callerNumberIndex('+15550100001', old)); // prettier-ignore
  });

  it('after a rotation new calls get the new key’s index, and the query still finds the old ones', () => {
    const before = callerNumberIndex('+15550100001', old);
    const after = callerNumberIndex('+15550100001', rotated);
    assert.match(after, /^2026-06\./);
    assert.equal(callerNumberQuery('+15550100001', rotated), `CallerNumber IN ('${after}', '${before}')`); // prettier-ignore
  });

  it('without keys it says which variable is missing', () => {
    assert.throws(
      () => callerNumberIndex('+15550100001', {}),
      /PAYLOAD_ENCRYPTION_KEYS is not set/,
    );
  });
});
