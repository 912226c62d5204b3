// What a promise rejected with, for assertions on an error's fields; fails if it resolved.
import assert from 'node:assert/strict';

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}
