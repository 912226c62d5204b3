import assert from 'node:assert/strict';
import { chunkMulaw, FRAME_MS, frameSamples, splitFrames } from '../../audio/frames';

describe('frames', () => {
  it('sizes 20 ms frames per rate and rejects rates that do not divide', () => {
    assert.equal(FRAME_MS, 20);
    assert.equal(frameSamples(8000), 160);
    assert.equal(frameSamples(16000), 320);
    assert.equal(frameSamples(22050), 441);
    assert.throws(() => frameSamples(11025), RangeError);
    assert.throws(() => frameSamples(0), RangeError);
  });

  it('splits PCM into whole frames as views and zero-pads the last one', () => {
    const pcm = Int16Array.from({ length: 400 }, (_, i) => i + 1);
    const frames = splitFrames(pcm, 8000);
    assert.deepEqual(
      frames.map((f) => f.length),
      [160, 160, 160],
    );
    assert.equal(frames[1]![0], 161);
    assert.equal(frames[0]!.buffer, pcm.buffer); // no copy for whole frames
    assert.deepEqual(Array.from(frames[2]!.subarray(0, 80)), Array.from(pcm.subarray(320)));
    assert.ok(frames[2]!.subarray(80).every((v) => v === 0));
    assert.equal(splitFrames(new Int16Array(320), 8000).length, 2);
    assert.equal(splitFrames(new Int16Array(0), 8000).length, 0);
  });

  it('chunks μ-law for playout, padding the tail with μ-law silence', () => {
    const buf = Buffer.from(Array.from({ length: 350 }, (_, i) => i % 200));
    const chunks = chunkMulaw(buf);
    assert.deepEqual(
      chunks.map((c) => c.length),
      [160, 160, 160],
    );
    assert.deepEqual(Buffer.concat(chunks).subarray(0, 350), buf);
    assert.ok(chunks[2]!.subarray(30).every((b) => b === 0xff));
    assert.deepEqual(
      chunkMulaw(buf, 100).map((c) => c.length),
      [100, 100, 100, 100],
    );
    assert.equal(chunkMulaw(Buffer.alloc(0)).length, 0);
    assert.throws(() => chunkMulaw(buf, 0), RangeError);
  });
});
