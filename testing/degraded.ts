// What the fault tests and `bench --faults` share: a breaker quick to open and to probe, a
// failed attempt, one grounded question for the language models, and the TTS cache over a Redis.
import type { Redis } from 'ioredis';
import type { ProviderAttempt, ProviderErrorKind } from '../contracts/providers';
import { composePrompt } from '../conversation/answers/prompt';
import { objectStoreConfig } from '../infra';
import type { FallbackGate } from '../providers/fallback';
import { FallbackCache } from '../providers/cache/fallback';
import { RedisCache, redisCacheClient } from '../providers/cache/redis';
import type { HealthPolicy } from '../providers/health/policy';
import type { Prompt } from '../providers/llm/port';
import { S3ObjectStore } from '../providers/object-store/s3';
import { TtsCache } from '../providers/tts/cache';

/** Opens after two failures in a row, probes after a second. */
export const QUICK_BREAKER: HealthPolicy = {
  consecutiveFailures: 2,
  consecutiveTimeouts: 2,
  failureRate: 0.5,
  minRequests: 10,
  windowMs: 30_000,
  openMs: 1_000,
  probeMs: 1_000,
};

/** One failed try of `provider`, as a fallback chain records it. */
export const failedAttempt = (
  provider: string,
  kind: ProviderErrorKind = 'unavailable',
  reason = 'connection refused',
): ProviderAttempt => ({ provider, ok: false, ms: 3, kind, reason });

export const LATE_FEE_PROMPT: Prompt = composePrompt({
  question: 'what is the late fee',
  intent: 'ask_billing',
  documents: [
    {
      id: 'billing.md#2',
      docId: 'billing.md',
      title: 'Late fees',
      topic: 'billing',
      score: 0.8,
      text: 'A late fee of $10 applies if a bill is unpaid 5 days after the due date.',
    },
  ],
  recentTurns: [],
});

/** The TTS cache with its index on the Redis at `url` (behind `gate`) and audio in S3. */
export function ttsCacheOn(
  url: string,
  gate: FallbackGate,
  namespace: string,
): { cache: TtsCache; redis: Redis } {
  const redis = redisCacheClient(url);
  const audio = objectStoreConfig('audio');
  const cache = new TtsCache({
    cache: new FallbackCache([{ provider: 'redis', port: new RedisCache(redis) }], gate),
    store: new S3ObjectStore({
      bucket: audio.bucket,
      endpoint: audio.endpoint,
      region: audio.region,
      credentials: { accessKeyId: audio.accessKeyId, secretAccessKey: audio.secretAccessKey },
    }),
    namespace,
  });
  return { cache, redis };
}
