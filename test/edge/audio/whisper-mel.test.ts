// The Whisper log-mel features Smart Turn reads, against values computed once with numpy from
// Whisper's own filterbank (mel_filters.npz) and the reference feature code (fixture).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  melFilterbank,
  N_FRAMES,
  N_MELS,
  whisperLogMel,
} from '../../../media-edge/audio/whisper-mel';

interface Fixture {
  filterRows: Record<string, number[]>;
  filterSums: number[];
  frames: number[];
  features: Record<string, number[]>;
}
const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../fixtures/whisper-mel.json'), 'utf8'),
) as Fixture;

describe('Whisper log-mel', () => {
  it('builds the 80 Slaney filters Whisper ships', () => {
    const filters = melFilterbank();
    assert.equal(filters.length, 80);
    assert.equal(filters[0]!.length, 201);
    for (const [m, expected] of Object.entries(fixture.filterRows)) {
      expected.forEach((v, k) =>
        assert.ok(Math.abs(filters[+m]![k]! - v) < 1e-7, `filter ${m} bin ${k}`),
      );
    }
    fixture.filterSums.forEach((v, m) => {
      const sum = filters[m]!.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - v) < 1e-6, `filter ${m} sums to ${sum}, want ${v}`);
    });
  });

  it('matches the reference features of a two-tone signal, left-padded to 8 s', () => {
    const audio = Float32Array.from(
      { length: 24000 },
      (_, n) =>
        0.3 * Math.sin((2 * Math.PI * 440 * n) / 16000) +
        0.1 * Math.sin((2 * Math.PI * 1500 * n) / 16000),
    );
    const features = whisperLogMel(audio);
    assert.equal(features.length, N_MELS * N_FRAMES);
    for (const t of fixture.frames) {
      fixture.features[String(t)]!.forEach((v, m) => {
        const got = features[m * N_FRAMES + t]!;
        assert.ok(Math.abs(got - v) < 1e-3, `mel ${m} frame ${t}: ${got} vs ${v}`);
      });
    }
  });

  it('keeps the last 8 s of longer audio', () => {
    const long = new Float32Array(16000 * 10);
    long.fill(0.2, 0, 16000 * 2); // only in the 2 s that fall off the window
    const features = whisperLogMel(long);
    const silent = whisperLogMel(new Float32Array(16000 * 8));
    assert.deepEqual(features, silent);
  });
});
