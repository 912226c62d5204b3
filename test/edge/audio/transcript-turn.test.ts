// End of turn from what was heard: the judge on its own, the Endpointer's "no verdict", then
// real speech through the edge's listening path (μ-law line, WebRTC VAD, pocketsphinx on the
// dialogue's phrases streaming its hypotheses through the fallback chain): a whole request ends
// at the first pause check, before the fixed hangover would end it.
import assert from 'node:assert/strict';
import { splitFrames } from '../../../audio/frames';
import { pcmToMulaw } from '../../../audio/mulaw';
import { Endpointer } from '../../../media-edge/audio/endpointer';
import { TranscriptTurn } from '../../../media-edge/audio/transcript-turn';
import type { TurnJudge } from '../../../media-edge/audio/turn-detector';
import { createVad } from '../../../media-edge/audio/vad';
import { Listener } from '../../../media-edge/call/listener';
import { CallRecorder } from '../../../media-edge/call/recorder';
import { utteranceRecognizer } from '../../../media-edge/edge-runtime';
import { FallbackSpeechToText } from '../../../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../../../providers/stt/pocketsphinx';
import { concatPcm, silence, speak } from '../../../testing/speech-audio';
import { expectedPhrases } from '../../../workflows/call-state';

const EXPECTED = ["what's my balance", 'pay my bill', 'yes please', 'yes', 'talk to an agent'];
const judged = (heard: string, expected = EXPECTED, closedQuestion = false) =>
  new TranscriptTurn().judge({ audio: () => new Int16Array(0), heard, expected, closedQuestion });

describe('TranscriptTurn: a whole expected phrase ends the turn', () => {
  it('a hypothesis ending with an expected phrase is a finished turn', async () => {
    assert.equal(await judged("what's my balance"), true);
    assert.equal(await judged('I want to PAY MY BILL.'), true);
    assert.equal(await judged('uh yes please'), true);
  });

  it('half a phrase, a word ending inside one, or nothing heard: no verdict', async () => {
    assert.equal(await judged('pay my'), undefined);
    assert.equal(await judged('i want to'), undefined);
    assert.equal(await judged('eyes'), undefined, '"yes" inside a word is not "yes"');
    assert.equal(await judged(''), undefined);
    assert.equal(await judged('yes', []), undefined, 'nothing expected: nothing to end on');
  });

  it('an answer to a yes/no question gets the whole pause ("yes … no, wait" stays one utterance)', async () => {
    assert.equal(await judged('yes please', EXPECTED, true), undefined);
    assert.equal(await judged('talk to an agent', EXPECTED, true), undefined);
    assert.equal(await judged('no wait', EXPECTED, true), undefined);
    assert.equal(await judged('yes no', EXPECTED, true), undefined);
    assert.equal(await judged('', EXPECTED, true), undefined);
  });

  it('a plain refusal to a yes/no question ends the turn: a no moves no money', async () => {
    for (const no of ['no', 'No.', 'nope thanks', 'no thank you', 'not now', 'nah'])
      assert.equal(await judged(no, EXPECTED, true), true, no);
    assert.equal(await judged('nobody', EXPECTED, true), undefined);
  });

  it('no verdict leaves the pause to the fixed hangover', async () => {
    const ep = new Endpointer({
      hangoverMs: 400,
      turn: { isComplete: () => Promise.resolve(undefined), probeMs: 200, maxWaitMs: 1500 },
    });
    let endedAt = -1;
    for (let k = 0; k < 60 && endedAt < 0; k++) {
      if (ep.push(k < 10)?.type === 'speech_end') endedAt = k;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(endedAt, 10 + 20 - 1); // 400 ms of silence, as without a check
  });
});

describe('TranscriptTurn on real speech (pocketsphinx on the phrases, WebRTC VAD)', function () {
  this.timeout(180_000);
  // A frame every 50 ms, not 20: the decoder keeps up even on a busy machine, so its hypothesis
  // is current at each pause check and what it hears does not hang on how its audio was batched.
  const PACE_MS = 50;

  /** Where utterances ended (frames from the start) and what was heard, fed at the line's pace. */
  async function heard(
    pcm: Int16Array,
    judge?: TurnJudge,
  ): Promise<{ ends: number[]; texts: string[] }> {
    // prettier-ignore
    // A decoder of its own: its running cepstral mean (and so what it hears) depends on what it heard before.
    const sphinx = new PocketsphinxSpeechToText({ poolSize: 1 });
    const vad = await createVad();
    const ends: number[] = [];
    const texts: Promise<string>[] = [];
    let k = 0;
    const listener = new Listener(
      {
        vad,
        recognizer: utteranceRecognizer(new FallbackSpeechToText(sphinx, undefined)),
        recorder: new CallRecorder(),
        onSpeaking: () => undefined,
        onUtterance: (u) => {
          ends.push(k);
          texts.push(u.recognizer.finish().then((r) => r.text));
        },
      },
      judge ? { endpointing: { hangoverMs: 400 }, turns: { judge, probeMs: 200 } } : { endpointing: { hangoverMs: 400 } }, // prettier-ignore
    );
    listener.hints = expectedPhrases('idle');
    for (const f of splitFrames(pcm, 8000)) {
      listener.frame(pcmToMulaw(f));
      k++;
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
    vad.close();
    const said = await Promise.all(texts);
    sphinx.dispose();
    return { ends, texts: said };
  }

  it('ends whole requests at the first pause check, and hears them as the fixed pause does', async () => {
    const lines = ["what's my balance", 'pay my bill', 'I want to talk to an agent', 'yes please', 'how much do i owe']; // prettier-ignore
    const parts = [silence(300)];
    for (const line of lines) parts.push((await speak(line)).samples, silence(1200));
    const pcm = concatPcm(...parts);
    const fixed = await heard(pcm);
    const early = await heard(pcm, new TranscriptTurn());
    assert.equal(early.ends.length, lines.length);
    const sooner = early.ends.map((end, i) => fixed.ends[i]! - end);
    assert.ok(
      sooner.every((frames) => frames >= 0),
      `never later: ${sooner.join(', ')} frames`,
    );
    const ended = sooner.flatMap((frames, i) => (frames >= 5 ? [i] : []));
    assert.ok(ended.length >= 1, `sooner by ${sooner.join(', ')} frames`);
    // Ended early, the recognizer still hears the pause it would have: the same words (without
    // it, "how much do i owe" ended early was heard as "oh").
    for (const i of ended) assert.equal(early.texts[i], fixed.texts[i], `line ${i + 1}`);
  });

  it('a judge that hears nothing whole ends turns where the fixed hangover does', async () => {
    const pcm = concatPcm(silence(300), (await speak('I want to talk to an agent')).samples, silence(1200)); // prettier-ignore
    const nothingWhole = new (class extends TranscriptTurn {
      override judge() {
        return Promise.resolve(undefined);
      }
    })();
    assert.deepEqual((await heard(pcm, nothingWhole)).ends, (await heard(pcm)).ends);
  });
});
