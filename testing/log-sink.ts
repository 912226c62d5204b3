// A stream that keeps what a logger writes to it, for tests that read log lines.
import { Writable } from 'node:stream';

/** Each chunk written (one pino line) pushed onto `lines`. */
export function linesSink(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
}
