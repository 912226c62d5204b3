// Helpers of the webhook tests: a Temporal dev server of their own, and Twilio-signed
// form POSTs to the edge.
import twilio from 'twilio';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  SA_CALLER_NUMBER,
  SA_CUSTOMER_ID,
  SA_DISPOSITION,
  SA_LAST_INTENT,
  SA_TURN_COUNT,
} from '../../contracts/call';
import { ensureTemporalBinaries } from '../../infra';
import { historyDataConverter } from '../../infra/payload-codec';

/**
 * Its own server: webhook tests start calls with no worker, which must not reach other
 * tests' workers. Same search attributes as temporal.yaml (a start sets CallerNumber).
 */
export async function workerlessTemporal(namespace: string): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: historyDataConverter() },
    server: {
      executable: { type: 'existing-path', path: (await ensureTemporalBinaries()).temporal },
      namespace,
      searchAttributes: [
        SA_CALLER_NUMBER,
        SA_CUSTOMER_ID,
        SA_LAST_INTENT,
        SA_DISPOSITION,
        SA_TURN_COUNT,
      ],
    },
  });
}

export type Params = Record<string, string>;

export interface SignedPostOptions {
  /** null: no header; string: this header; undefined: a correct signature. */
  signature?: string | null;
  /** Sign for this URL instead of the real public one. */
  signUrl?: string;
}

/** A form POST as Twilio sends it, signed with `authToken` for `publicUrl` + `path`. */
export function signedPost(
  app: FastifyInstance,
  signing: { authToken: string; publicUrl: string },
  path: string,
  params: Params,
  opts: SignedPostOptions = {},
): Promise<LightMyRequestResponse> {
  const signature =
    opts.signature === undefined
      ? twilio.getExpectedTwilioSignature(
          signing.authToken,
          opts.signUrl ?? signing.publicUrl + path,
          params,
        )
      : opts.signature;
  return app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    payload: new URLSearchParams(params).toString(),
  });
}
