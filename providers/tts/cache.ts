// The cache of synthesized speech in front of any TextToSpeech (a vendor or the fallback
// chain): the audio in the object store, the index in a Cache (Redis) with a TTL. A hit plays
// without calling any provider.
//
// Keys. hash = sha256(voice + "\n" + normalised text); the same words in another voice are
// other audio. Shared entries (fixed prompts, reused across calls):
//   index  <ns>:<voice>:<hash>  → JSON { objectKey, durationMs, provider, bytes }
//   object <ns>/<voice>/<hash>.ulaw
// Per-call entries (personalised text: a name, an amount) live under the call and are
// listed in the cache group of the call, so finalization can delete them with forgetCall:
//   index  <ns>:call:<callId>:<voice>:<hash>,  group <ns>:call:<callId> of those keys
//   object <ns>/call/<callId>/<voice>/<hash>.ulaw
// A lookup sees only its own scope: a call never reads another call's entries.
//
// Ordering. put writes the object, then the index: a reader never finds an index entry
// before its audio. Deleting goes the other way (index, then object). An index entry whose
// object is gone (deleted, expired by a bucket lifecycle rule) is a miss, and the entry is
// removed. The index expires after the TTL (TTS_CACHE_TTL_S, default 7 days); objects of
// shared entries outlive it and are overwritten by the next put of the same text, so in
// production the bucket wants a lifecycle rule expiring <ns>/ a little after the TTL.
//
// Not done, on purpose: two calls missing the same prompt at the same moment both
// synthesize it (the second put overwrites the first with equivalent audio).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Cache } from '../cache/port';
import type { ObjectStore } from '../object-store/port';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';

export const DEFAULT_TTS_CACHE_TTL_S = 7 * 24 * 3600;

/** TTS_CACHE_NAMESPACE (edge and post-call worker): a new one starts an empty cache. */
export const ttsCacheNamespaceField = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, - and _ (at most 40)')
  .default('tts');

export type CacheScope = 'shared' | { callId: string };

export interface TtsCacheOptions {
  /** The index: a RedisCache, or a FallbackCache over one. */
  cache: Cache;
  /** The audio bucket (switchboard-audio locally). */
  store: ObjectStore;
  /** Index TTL in seconds; default TTS_CACHE_TTL_S or 7 days. */
  ttlS?: number;
  /** First segment of every cache key and object key; tests use their own. */
  namespace?: string;
}

export interface CachedSynthesizeOptions {
  signal?: AbortSignal;
  scope?: CacheScope;
}

export interface CachedSpeech {
  audio: SpeechAudio;
  cacheHit: boolean;
  /** The cache failed (its index or the store down); the audio came from the provider anyway. */
  cacheError?: string;
}

interface IndexEntry {
  objectKey: string;
  durationMs: number;
  provider: string;
  bytes: number;
}

/** What makes two prompts the same audio: Unicode NFC, trimmed, whitespace runs as one space.
 * Case and punctuation are kept: both change what a voice says ("US" vs "us", "?" vs "."). */
export function normaliseText(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ');
}

export function speechHash(voice: string, text: string): string {
  return createHash('sha256')
    .update(`${voice}\n${normaliseText(text)}`)
    .digest('hex');
}

export function ttsCacheTtlFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = env.TTS_CACHE_TTL_S;
  if (raw === undefined || raw === '') return DEFAULT_TTS_CACHE_TTL_S;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    throw new Error(`TTS_CACHE_TTL_S=${raw} must be a positive whole number of seconds`);
  }
  return ttl;
}

// Voice names carry ':' ("flite:slt"), the key separator, and may carry anything else:
// keep the common safe characters and escape the rest ("flite%3aslt"). Injective, so no
// voice name can reach another voice's or another scope's keys.
function keySegment(voice: string): string {
  return voice.replace(/[^A-Za-z0-9._+-]/g, (c) => `%${c.codePointAt(0)!.toString(16)}`);
}

const CALL_ID = /^[A-Za-z0-9._-]{1,200}$/;
/** The provider named in the cache's own errors. */
const CACHE = 'tts-cache';

export class TtsCache {
  readonly ttlS: number;
  private readonly index: Cache;
  private readonly store: ObjectStore;
  private readonly ns: string;

  constructor(opts: TtsCacheOptions) {
    this.index = opts.cache;
    this.store = opts.store;
    this.ttlS = opts.ttlS ?? ttsCacheTtlFromEnv();
    this.ns = opts.namespace ?? 'tts';
  }

  /** The cache key and object key of an entry (public for tests and tooling). */
  keys(voice: string, text: string, scope: CacheScope = 'shared') {
    return this.entryKeys(keySegment(voice), speechHash(voice, text), scope);
  }

  async get(
    voice: string,
    text: string,
    scope: CacheScope = 'shared',
  ): Promise<SpeechAudio | undefined> {
    const { index } = this.keys(voice, text, scope);
    const raw = await this.index.get(index);
    if (raw === undefined) return undefined;
    const entry = parseEntry(raw);
    const mulaw = entry && (await this.store.get(entry.objectKey));
    if (!entry || !mulaw) {
      await this.index.delete(index); // audio gone or entry unreadable: a miss, and no longer listed
      return undefined;
    }
    // A concurrent put of other audio for this key may have replaced the object since the
    // index was written: then the bytes decide the length (8 kHz μ-law = 8 bytes per ms).
    const durationMs =
      mulaw.length === entry.bytes ? entry.durationMs : Math.round(mulaw.length / 8);
    return { mulaw, durationMs, provider: entry.provider, voice };
  }

  /** Stores audio for `text` under audio.voice: the object first, then the index. */
  async put(audio: SpeechAudio, text: string, scope: CacheScope = 'shared'): Promise<void> {
    if (audio.mulaw.length === 0)
      throw new ProviderError(CACHE, 'bad_input', 'tts cache: empty audio');
    const { index, object, callSet } = this.keys(audio.voice, text, scope);
    await this.store.put(object, audio.mulaw, { contentType: 'audio/basic' });
    const entry: IndexEntry = {
      objectKey: object,
      durationMs: audio.durationMs,
      provider: audio.provider,
      bytes: audio.mulaw.length,
    };
    // The entry and its listing under the call in one atomic write.
    await this.index.set(index, JSON.stringify(entry), { ttlS: this.ttlS, group: callSet });
  }

  /**
   * Audio for `text` in tts's voice: from the cache, or from tts and then cached. The cache is
   * an optimisation: when the index or the store fails, the audio still comes from tts and
   * cacheError says why. Audio a fallback link served is stored under its own voice, so a
   * later lookup in the chain's voice misses it and asks the chain again.
   */
  async cachedSynthesize(
    tts: TextToSpeech,
    text: string,
    signalOrOpts?: AbortSignal | CachedSynthesizeOptions,
  ): Promise<CachedSpeech> {
    const opts =
      signalOrOpts instanceof AbortSignal ? { signal: signalOrOpts } : (signalOrOpts ?? {});
    const scope = opts.scope ?? 'shared';
    opts.signal?.throwIfAborted();
    let cacheError: string | undefined;
    try {
      const hit = await this.get(tts.voice, text, scope);
      if (hit) return { audio: hit, cacheHit: true };
    } catch (err) {
      cacheError = `get: ${(err as Error).message}`;
    }
    opts.signal?.throwIfAborted();
    const audio = await tts.synthesize(text, { signal: opts.signal });
    if (!cacheError) {
      try {
        await this.put(audio, text, scope);
      } catch (err) {
        cacheError = `put: ${(err as Error).message}`;
      }
    }
    return cacheError ? { audio, cacheHit: false, cacheError } : { audio, cacheHit: false };
  }

  /**
   * Deletes a call's per-call entries (index, then audio); returns how many. Safe to repeat:
   * keys are unlisted from the call's group only once their entry and audio are gone, so an
   * entry added meanwhile (a late synthesis) stays listed for the next run or expires with
   * the TTL.
   */
  async forgetCall(callId: string): Promise<number> {
    const callSet = this.callSetKey(callId);
    const listed = await this.index.groupKeys(callSet);
    if (listed.length === 0) return 0;
    await Promise.all(listed.map((index) => this.index.delete(index)));
    await Promise.all(listed.map((index) => this.store.delete(this.objectOf(index, callId))));
    await this.index.deleteGroup(callSet, listed);
    return listed.length;
  }

  private entryKeys(voice: string, hash: string, scope: CacheScope) {
    if (scope === 'shared') {
      return {
        index: `${this.ns}:${voice}:${hash}`,
        object: `${this.ns}/${voice}/${hash}.ulaw`,
        callSet: undefined,
      };
    }
    const call = scope.callId;
    return {
      index: `${this.ns}:call:${call}:${voice}:${hash}`,
      object: `${this.ns}/call/${call}/${voice}/${hash}.ulaw`,
      callSet: this.callSetKey(call),
    };
  }

  /** The audio of an index key listed in a call's group (it ends in <voice>:<hash>). */
  private objectOf(index: string, callId: string): string {
    const [voice = '', hash = ''] = index.split(':').slice(-2);
    return this.entryKeys(voice, hash, { callId }).object;
  }

  private callSetKey(callId: string): string {
    if (!CALL_ID.test(callId)) {
      throw new ProviderError(
        CACHE,
        'bad_input',
        `tts cache: bad call id "${callId.slice(0, 80)}"`,
      );
    }
    return `${this.ns}:call:${callId}`;
  }
}

function parseEntry(raw: string): IndexEntry | undefined {
  try {
    const e = JSON.parse(raw) as Partial<IndexEntry>;
    if (
      typeof e.objectKey === 'string' &&
      typeof e.durationMs === 'number' &&
      typeof e.provider === 'string' &&
      typeof e.bytes === 'number'
    ) {
      return e as IndexEntry;
    }
  } catch {
    // not JSON: written by something else
  }
  return undefined;
}
