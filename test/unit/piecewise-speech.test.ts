// Speech said from prerecorded pieces: which pieces a text is cut into, that the shipped
// pieces cover every personal sentence the call flow says, and how their audio is joined.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spliceMulaw } from '../../audio/splice';
import { MULAW_SILENCE } from '../../audio/mulaw';
import { speechUnits } from '../../media-edge/speech-synthesizer';
import { ProviderError } from '../../providers/provider-error';
import {
  GAPS_MS,
  PIECES_DIR,
  PiecewiseSpeech,
  planPieces,
  withoutGreetedName,
  type PieceIndex,
} from '../../providers/tts/piecewise';
import { PrerecordedTts } from '../../providers/tts/prerecorded';
import { spokenWords } from '../../providers/tts/spoken-words';
import { pieceTexts } from '../../scripts/build-prompts';
import { initialCallState, step, type CallEvent } from '../../workflows/call-state';
import type { CallState } from '../../contracts/call';
import { rejection } from '../helpers/rejection';

const AMOUNTS = [0, 1, 5, 99, 100, 101, 1_999, 4_217, 12_999, 100_000, 123_456_789];
const DATES = ['2026-01-01', '2026-02-12', '2026-03-21', '2026-11-30', '2026-12-31'];

/** Every sentence the state machine says that carries an amount or a date. */
function personalReplies(): string[] {
  const known: CallState = {
    ...initialCallState(),
    phase: 'idle',
    customer: { id: 'c1', name: 'Ada' },
  };
  const out: string[] = [];
  const sayOf = (state: CallState, e: CallEvent) => step(state, e).say;
  for (const amountCents of AMOUNTS) {
    for (const dueDate of DATES) {
      const openInvoice = { invoiceId: 'inv-1', amountCents, dueDate };
      const report = { kind: 'balance', purpose: 'report', balanceCents: amountCents } as const;
      out.push(sayOf(known, { ...report, openInvoice })!, sayOf(known, report)!);
      const confirm = step(known, {
        kind: 'balance',
        purpose: 'pay',
        balanceCents: 0,
        openInvoice,
      });
      out.push(confirm.say!, sayOf(confirm.state, { kind: 'no_input' })!);
      out.push(
        sayOf(confirm.state, {
          kind: 'turn',
          intent: { name: 'ask_plans', confidence: 1 },
          asrConfidence: 1,
          threshold: 0.5,
        })!,
      );
    }
    out.push(sayOf(known, { kind: 'payment', ok: true, amountCents })!);
  }
  return out;
}

describe('prerecorded pieces', () => {
  const pieces = new PiecewiseSpeech();
  const prompts = new PrerecordedTts();

  it('cuts text into the longest known pieces, never across a pause', () => {
    const known = new Set(['your balance is', 'your', 'balance', 'is', 'forty', 'two', 'due']);
    assert.deepEqual(planPieces(spokenWords('Your balance is 42.'), known), {
      pieces: ['your balance is', 'forty', 'two'],
    });
    assert.deepEqual(planPieces(spokenWords('Your, balance is'), known), {
      pieces: ['your', ',', 'balance', 'is'],
    });
    assert.deepEqual(planPieces(spokenWords('Your plan is due soon'), known), {
      missing: ['plan', 'soon'],
    });
  });

  it('ships the pieces the build script lists (npx tsx scripts/build-prompts.ts)', () => {
    const index = JSON.parse(
      readFileSync(path.join(PIECES_DIR, 'index.json'), 'utf8'),
    ) as PieceIndex;
    assert.deepEqual(Object.keys(index.pieces).sort(), [...pieceTexts().keys()].sort());
    assert.equal(index.voice, prompts.voice.replace(/^prerecorded:/, ''), 'the prompts’ voice');
  });

  it('covers every sentence with an amount or a date the call flow says', () => {
    const replies = personalReplies();
    assert.ok(replies.length > 100);
    for (const reply of replies) {
      for (const unit of speechUnits(reply)) {
        if (prompts.has(unit)) continue;
        const plan = pieces.plan(unit);
        assert.ok('pieces' in plan, `not sayable from pieces: "${unit}" (${JSON.stringify(plan)})`);
      }
    }
  });

  it('joins the pieces’ audio with a short gap between words and a longer one between sentences', async () => {
    const one = await pieces.synthesize('one');
    const two = await pieces.synthesize('two');
    const joined = await pieces.synthesize('one two');
    assert.equal(joined.mulaw.length, one.mulaw.length + GAPS_MS.word * 8 + two.mulaw.length);
    assert.deepEqual(joined.mulaw.subarray(0, one.mulaw.length), one.mulaw);
    const sentences = await pieces.synthesize('One. Two');
    assert.equal(sentences.mulaw.length, one.mulaw.length + GAPS_MS['.'] * 8 + two.mulaw.length);
    assert.equal(joined.durationMs, joined.mulaw.length / 8);
    assert.equal(joined.provider, 'pieces');
    assert.equal(joined.voice, `pieces:${prompts.voice.replace(/^prerecorded:/, '')}`);
  });

  it('refuses uncovered or unspeakable text as not_found, without echoing it', async () => {
    for (const text of ['Your Zephyr plan renews soon.', 'Your balance is -$7.00.', ' . ']) {
      const err = await rejection(pieces.synthesize(text));
      assert.ok(err instanceof ProviderError, String(err));
      assert.equal(err.kind, 'not_found');
      assert.equal(err.provider, 'pieces');
      assert.ok(!/zephyr|renews|7/i.test(err.message), err.message);
    }
  });

  it('splices clips and silences into one new buffer', () => {
    const a = Buffer.from([1, 2, 3]);
    const out = spliceMulaw([a, { silenceMs: 1 }, Buffer.from([4])]);
    assert.deepEqual([...out], [1, 2, 3, ...Array<number>(8).fill(MULAW_SILENCE), 4]);
    out[0] = 9;
    assert.equal(a[0], 1, 'the clip is copied, not shared');
  });
});

describe('greetings from pieces', () => {
  const pieces = new PiecewiseSpeech();

  it('greets without the name when the name has no piece; other unknown words stay unsayable', () => {
    const known = (w: string) => ['ada'].includes(w);
    assert.equal(
      withoutGreetedName('Hello Zoe Smith, thanks for calling.', known),
      'Hello, thanks for calling.',
    );
    assert.equal(withoutGreetedName('Okay. Hi Zoe, hi.', known), 'Okay. Hi, hi.');
    assert.equal(withoutGreetedName('Hello Ada, hi.', known), 'Hello Ada, hi.');
    assert.equal(withoutGreetedName('Zoe, your plan is due.', known), 'Zoe, your plan is due.');
    assert.ok('pieces' in pieces.plan('Hello Zoe, thanks for calling.'));
    assert.ok('missing' in pieces.plan('Zoe, thanks for calling.'));
  });
});
