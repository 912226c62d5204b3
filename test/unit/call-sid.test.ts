// The simulated callers take a known CallSid (support looking a call up, tests choosing the
// digits in its hex); a value that is not `CA` + 32 hex characters is refused up front,
// before anything is sent or synthesized, with an error that names it.
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { TextToSpeech } from '../../providers/tts/port';
import { CALL_SID_PATTERN, checkCallSid, randomCallSid } from '../../simulator/call-sid';
import { placeTextCall } from '../../simulator/text-call';
import { placeAudioCall } from '../../simulator/twilio-caller';

const GOOD = `CAb4111111111111111dca891d61dec888`;
const BAD = ['CA123', `AC${'0'.repeat(32)}`, `CA${'g'.repeat(32)}`, `${GOOD}0`, ` ${GOOD}`, ''];

/** An edge nobody listens on: a call that got as far as the network would fail otherwise. */
const target = {
  edgeUrl: 'http://127.0.0.1:9',
  publicUrl: 'https://edge.switchboard.test',
  authToken: 'token',
  from: '+15550100001',
  to: '+15550009999',
};

describe('simulated callers: a given CallSid', () => {
  it('is checked: CA + 32 hex characters, else an error naming the value', () => {
    assert.equal(checkCallSid(GOOD), GOOD);
    assert.match(randomCallSid(), CALL_SID_PATTERN);
    for (const bad of BAD)
      assert.throws(
        () => checkCallSid(bad),
        (err: Error) =>
          err.message.includes(JSON.stringify(bad)) && /CA followed by 32 hex/.test(err.message),
        bad,
      );
  });

  it('a bad one stops placeTextCall and placeAudioCall before they send or synthesize', async () => {
    const tts: TextToSpeech = {
      name: 'unused',
      voice: 'none',
      synthesize: () => Promise.reject(new Error('synthesized before the sid was checked')),
    };
    for (const bad of ['CA-not-a-sid', `CA${'0'.repeat(31)}`]) {
      const named = (err: Error) => err.message.includes(JSON.stringify(bad));
      await assert.rejects(
        placeTextCall({
          ...target,
          client: {} as Client,
          lines: ['hello'],
          print: () => undefined,
          callSid: bad,
        }),
        named,
      );
      await assert.rejects(
        placeAudioCall({
          ...target,
          script: [{ kind: 'say', text: 'hello' }],
          callerTts: tts,
          print: () => undefined,
          callSid: bad,
        }),
        named,
      );
    }
  });
});
