// The verdict on the caller's sound over the agent: listening words and noise are not turns;
// any other words are, and so is a short "yeah" once the reply has asked a question.
import { strict as assert } from 'node:assert';
import {
  asksQuestion,
  isBackchannel,
  judgeInterruption,
} from '../../media-edge/call/false-interruption';

describe('false interruptions: the verdict', () => {
  it('backchannels alone or repeated, as the recognizer spells them', () => {
    for (const t of [
      'uh huh',
      'Uh-huh.',
      'mm hmm',
      'mhm',
      'okay',
      'OK',
      'yeah yeah',
      'okay okay okay',
      'right',
      'sure',
      'i see',
      'I see.',
      'got it',
      'yeah right',
      'all right',
    ])
      assert.equal(isBackchannel(t), true, t);
  });

  it('anything with other words in it is not a backchannel', () => {
    for (const t of [
      '',
      'no',
      'wait',
      'okay but',
      'yeah i want to pay my bill',
      'no wait i want to pay my bill',
      'i see a problem',
      'got',
      'right now',
      'sure what is my balance',
    ])
      assert.equal(isBackchannel(t), false, t);
  });

  it('a question is asked by a text ending with "?"', () => {
    assert.equal(asksQuestion('Shall I pay it now?'), true);
    assert.equal(asksQuestion('Is there anything else I can help you with? '), true);
    assert.equal(asksQuestion('He asked "why?"'), true);
    assert.equal(asksQuestion('Your balance is 42 dollars.'), false);
    assert.equal(asksQuestion('Is it? Please say yes or no.'), false);
  });

  const judge = (text: string, confidence = 0.9, questionAsked = false, minConfidence = 0.2) =>
    judgeInterruption(
      { text, confidence, served: true, questionAsked, voicedMs: 300 },
      { minConfidence, minVoicedMs: 100 },
    );

  it('nothing recognized, or too unsure to be words, is noise', () => {
    assert.equal(judge(''), 'noise');
    assert.equal(judge('  '), 'noise');
    assert.equal(judge('pay my bill', 0.1), 'noise');
    assert.equal(judge('pay my bill', 0.1, false, 0), 'interruption', 'no floor: words count');
  });

  it('a backchannel resumes the reply unless the reply has asked a question', () => {
    assert.equal(judge('uh huh'), 'backchannel');
    assert.equal(judge('okay'), 'backchannel');
    assert.equal(judge('okay', 0.9, true), 'interruption', 'an answer to the question');
    assert.equal(judge('yeah', 0.9, true), 'interruption');
  });

  it('a sound with hardly any voice is noise, whatever was recognized in it', () => {
    const heard = { text: 'that', confidence: 0.9, served: true, questionAsked: true };
    assert.equal(judgeInterruption({ ...heard, voicedMs: 40 }, { minConfidence: 0, minVoicedMs: 100 }), 'noise'); // prettier-ignore
    assert.equal(judgeInterruption({ ...heard, voicedMs: 100 }, { minConfidence: 0, minVoicedMs: 100 }), 'interruption'); // prettier-ignore
    assert.equal(judgeInterruption({ ...heard, voicedMs: 0 }, { minConfidence: 0, minVoicedMs: 0 }), 'interruption', 'the floor off'); // prettier-ignore
  });

  it('a voiced sound no recognizer could serve goes to the workflow as before', () => {
    const verdict = judgeInterruption(
      { text: '', confidence: 0, served: false, questionAsked: false, voicedMs: 300 },
      { minConfidence: 0, minVoicedMs: 100 },
    );
    assert.equal(verdict, 'interruption');
  });

  it('other words interrupt, question or not', () => {
    assert.equal(judge('no wait i want to pay my bill'), 'interruption');
    assert.equal(judge('no'), 'interruption');
    assert.equal(judge('goodbye', 0.9, true), 'interruption');
  });
});
