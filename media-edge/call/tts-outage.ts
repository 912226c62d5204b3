// Whether the edge's voice is out for good enough that a new call should not be given a
// conversation: every synthesizer of the TTS chain (a link that voices free text, i.e. not
// the prerecorded prompts or pieces) has had its breaker open for at least `afterMs`. Asked
// once per call, at stream start; the workflow decides what the caller gets from it.
//
// New calls that get the outage notice synthesize nothing new, so nobody would probe a
// synthesizer whose breaker went half-open: the check does, once, before it answers (one
// short synthesis through the chain, bounded), and a synthesizer that serves it closes its
// breaker, so this call and the next ones get the conversation again.
import type { HealthView, BreakerState } from '../../providers/health/policy';
import type { TextToSpeech } from '../../providers/tts/port';
import { APOLOGY } from '../../providers/tts/prerecorded';

/** Links that say only fixed audio: they keep a call audible, but cannot hold a conversation. */
const FIXED_AUDIO = new Set(['prerecorded', 'pieces']);
/** A fixed line, so a vendor's answer to it is cacheable and a stand-in has it recorded. */
const PROBE_TEXT = APOLOGY;

export interface TtsOutageCheck {
  /** True when every synthesizer has been out (breaker open) for at least the threshold. */
  outage(): Promise<boolean>;
}

export interface TtsOutageWatchOptions {
  /** The chain's links, in order: which ones are synthesizers that can be asked. */
  links: readonly { provider: string; port?: unknown; skipReason?: string }[];
  /** The breaker of `tts:<provider>` (the edge's provider health). */
  breaker(provider: string): { view: HealthView; state: BreakerState };
  /** The chain itself: the probe goes through it, so its gate records the outcome. */
  chain: TextToSpeech;
  afterMs: number;
  /** Bound on the probe (the chain's links have their own timeouts within it). */
  probeTimeoutMs?: number;
  now?: () => number;
}

export class TtsOutageWatch implements TtsOutageCheck {
  private readonly synthesizers: string[];
  private readonly now: () => number;

  constructor(private readonly opts: TtsOutageWatchOptions) {
    this.synthesizers = opts.links
      .filter((l) => l.port !== undefined && !l.skipReason && !FIXED_AUDIO.has(l.provider))
      .map((l) => l.provider);
    this.now = opts.now ?? Date.now;
  }

  async outage(): Promise<boolean> {
    if (this.synthesizers.length === 0) return false; // fixed audio only: nothing to be out
    const first = this.breakers();
    if (!first) return false;
    if (first.some((b) => b.view === 'half_open')) {
      // Due for a probe that no new call would send: send it, then look again.
      await this.opts.chain
        .synthesize(PROBE_TEXT, { signal: AbortSignal.timeout(this.opts.probeTimeoutMs ?? 5_000) }) // prettier-ignore
        .catch(() => undefined);
    }
    const now = this.breakers();
    if (!now) return false;
    // The outage of the whole voice began when its last synthesizer went out.
    const since = Math.max(...now.map((b) => b.state.since));
    return this.now() - since >= this.opts.afterMs;
  }

  /** Every synthesizer's breaker, or undefined when one of them is closed. */
  private breakers(): { view: HealthView; state: BreakerState }[] | undefined {
    const all = this.synthesizers.map((p) => this.opts.breaker(p));
    return all.every((b) => b.state.state === 'open') ? all : undefined;
  }
}
