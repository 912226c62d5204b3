// One call's presence in the edge's mediasoup router: the caller's audio as a producer
// (PCMU 8 kHz RTP, bridged from Media Streams without transcoding) and a way to put another
// producer's audio (a human agent's) on the caller's line. The desk's WebRTC peers and the
// Media Streams bridge meet here and nowhere else.
import type { types } from 'mediasoup';

export interface CallMedia {
  readonly callSid: string;
  readonly router: types.Router;
  /** The caller's audio in the router. */
  readonly callerProducerId: string;
  /**
   * Plays a producer's audio to the caller, mixed with the AI's playout and recorded with the
   * call. Resolves to a function that stops it.
   */
  playToCaller(producerId: string): Promise<() => Promise<void>>;
  /** Settles when the call leaves the router (hang-up, or the router went). */
  readonly ended: Promise<void>;
}

/** The calls this edge host holds in its router. */
export interface CallMediaDirectory {
  callMedia(callSid: string): CallMedia | undefined;
}
