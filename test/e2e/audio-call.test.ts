// Real audio through the whole stack: a caller speaking Twilio's protocol with a synthetic
// voice, the edge's VAD, endpointer, local ASR, the call workflow on Temporal, the local
// TTS with its cache, playout with marks, and the recording in the object store.
import assert from 'node:assert/strict';
import { PocketsphinxSpeechToText } from '../../activities/providers/stt/pocketsphinx';
import { placeAudioCall, type AudioCallReport } from '../../simulator/twilio-caller';
import type { CallerScriptItem } from '../../simulator/caller-script';
import { startEdgeStack, type EdgeStack } from '../helpers/edge-stack';
import { ADA } from '../helpers/calls';
import { resetDb } from '../helpers/platform';

describe('audio calls end to end (real audio, local speech engines)', function () {
  this.timeout(180_000);
  let stack: EdgeStack;
  const transcriber = { stt: new PocketsphinxSpeechToText() };

  before(async () => {
    stack = await startEdgeStack();
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await resetDb();
  });

  const call = (script: CallerScriptItem[], from = ADA): Promise<AudioCallReport> =>
    placeAudioCall({
      edgeUrl: stack.edgeUrl,
      publicUrl: stack.config.publicUrl,
      authToken: stack.config.twilioAuthToken,
      from,
      to: '+15550009999',
      script,
      pace: 2,
      transcriber,
      print: () => undefined,
    });

  it('balance call: the agent says the balance, transcribed back from its audio', async () => {
    const report = await call([
      { kind: 'say', text: "what's my balance" },
      { kind: 'say', text: 'goodbye' },
    ]);
    const said = report.turns.map((t) => t.agentTranscript ?? '').join(' | ');
    assert.match(said, /forty two dollars/, said);
  });
});
