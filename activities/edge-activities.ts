// Activities bound to the media-edge host that holds a call's socket (task queue
// `media-edge.<hostId>`): what the workflow asks the edge to do when it speaks without
// being asked, e.g. a re-prompt after silence.
export interface CallAudio {
  /** Speaks text on the call; resolves once it has been played. */
  speak(callSid: string, text: string): Promise<void>;
  hangUp(callSid: string): Promise<void>;
}

export function createEdgeActivities(calls: CallAudio) {
  return {
    async speakOnCall(req: { callSid: string; text: string; hangUpAfter: boolean }): Promise<void> {
      await calls.speak(req.callSid, req.text);
      if (req.hangUpAfter) await calls.hangUp(req.callSid);
    },
  };
}

export type EdgeActivities = ReturnType<typeof createEdgeActivities>;
