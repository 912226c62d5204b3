// What a stretch of a phone line (8 kHz PCM) says, for tests that listen to a call: pocketsphinx
// with the lines expected as its grammar's hints (the call vocabulary stays in it and takes the
// words cut at a window's edge), over 6 s windows 3 s apart, so a line cut at one window's edge
// is whole in the next.
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';

const stt = new PocketsphinxSpeechToText({ mode: 'grammar' });

export async function wordsHeard(samples: Int16Array, hints: string[]): Promise<string> {
  const heard: string[] = [];
  for (let at = 0; at === 0 || at + 6 * 8000 <= samples.length; at += 3 * 8000) {
    const { text } = await stt.transcribe(
      { samples: samples.subarray(at, at + 6 * 8000), sampleRate: 8000 },
      { hints },
    );
    heard.push(text);
  }
  return heard.join(' | ');
}
