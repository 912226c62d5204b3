// A call's recording goes to the edge's disk before the object store, so an object store
// that is down (or slow) at hang-up loses nothing: the WAV waits in the spool and is uploaded
// in the background, with backoff, until the store takes it; what an edge left behind (a
// crash, a shutdown while the store was away) is uploaded when the edge starts again. Once the
// upload succeeded someone is told (recording-notice.ts): the call's workflow, or, when it
// closed meanwhile, the late-recording workflow that puts the key on the call log. The files
// leave the spool only after that: a notice that failed (Temporal away) is retried with the
// upload, which finds the object there (conditional put) and tells again.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RecordingRef } from '../../contracts/call';
import type { ObjectStore } from '../../providers/object-store/port';

export interface RecordingSink {
  /** Keeps the call's recording; resolves after the first upload attempt, whatever it did. */
  keep(callSid: string, wav: Buffer, ref: RecordingRef): Promise<void>;
}

export interface RecordingSpoolOptions {
  dir: string;
  store: ObjectStore;
  /** Tells who takes the recording (resolves to what happened); a throw is retried later. */
  notify: (callSid: string, ref: RecordingRef) => Promise<unknown>;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Upload retries: first delay, doubled each time up to the cap. */
  retryFirstMs?: number;
  retryMaxMs?: number;
}

interface Entry {
  callSid: string;
  ref: RecordingRef;
}

export class RecordingSpool implements RecordingSink {
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly uploading = new Set<string>();
  private closed = false;

  constructor(private readonly opts: RecordingSpoolOptions) {}

  get dir(): string {
    return this.opts.dir;
  }

  async keep(callSid: string, wav: Buffer, ref: RecordingRef): Promise<void> {
    await fs.mkdir(this.opts.dir, { recursive: true });
    const base = this.base(callSid);
    // The WAV first, then the entry that names it: an entry on disk always has its audio.
    await writeAtomically(`${base}.wav`, wav);
    await writeAtomically(`${base}.json`, Buffer.from(JSON.stringify({ callSid, ref })));
    await this.upload(callSid, 0);
  }

  /** Uploads what an earlier run left in the spool (on edge start); retries run on. */
  async resume(): Promise<number> {
    const left = await this.entries();
    for (const callSid of left) await this.upload(callSid, 0);
    return left.length;
  }

  /** CallSids whose recording is still on disk, not yet in the store. */
  async entries(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.opts.dir);
    } catch {
      return [];
    }
    const sids: string[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const entry = await this.read(path.join(this.opts.dir, name));
      if (entry) sids.push(entry.callSid);
    }
    return sids;
  }

  /** Stops the retries (the files stay for the next start). */
  close(): void {
    this.closed = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }

  private async upload(callSid: string, attempt: number): Promise<void> {
    this.retries.delete(callSid);
    if (this.closed || this.uploading.has(callSid)) return;
    this.uploading.add(callSid);
    const base = this.base(callSid);
    try {
      const entry = await this.read(`${base}.json`);
      if (!entry) return; // uploaded meanwhile
      const wav = await fs.readFile(`${base}.wav`).catch(() => undefined);
      if (!wav) {
        this.opts.log('spooled recording has no audio; dropped', { callSid });
        await fs.rm(`${base}.json`, { force: true });
        return;
      }
      let notice: unknown;
      try {
        // Conditional: an upload that landed before a crash is not written twice.
        await this.opts.store.put(entry.ref.key, wav, { contentType: 'audio/wav', ifAbsent: true });
        notice = await this.opts.notify(callSid, entry.ref);
      } catch (err) {
        this.retryLater(callSid, attempt, err as Error);
        return;
      }
      await fs.rm(`${base}.json`, { force: true });
      await fs.rm(`${base}.wav`, { force: true });
      if (attempt > 0)
        this.opts.log('spooled recording uploaded', { callSid, attempts: attempt + 1, notice });
    } finally {
      this.uploading.delete(callSid);
    }
  }

  private retryLater(callSid: string, attempt: number, err: Error): void {
    if (this.closed) return;
    const first = this.opts.retryFirstMs ?? 1_000;
    const delay = Math.min(first * 2 ** attempt, this.opts.retryMaxMs ?? 5_000);
    if (attempt === 0) {
      this.opts.log('recording not stored or not told; kept on disk, retrying', {
        callSid,
        error: err.message,
      });
    }
    const timer = setTimeout(() => void this.upload(callSid, attempt + 1), delay);
    timer.unref();
    this.retries.set(callSid, timer);
  }

  private async read(file: string): Promise<Entry | undefined> {
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as Entry;
    } catch {
      return undefined;
    }
  }

  private base(callSid: string): string {
    return path.join(this.opts.dir, encodeURIComponent(callSid));
  }
}

async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}
