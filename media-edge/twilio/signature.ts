// X-Twilio-Signature check. Twilio signs the URL it was configured with (public scheme and
// host, path, query string) plus the POST form fields, so the URL is rebuilt from the
// configured public base, never from Host / X-Forwarded-* headers a client controls.
import twilio from 'twilio';

export interface SignedRequest {
  /** Raw request path + query as received, e.g. `/v1/calls/incoming?x=1`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** The URL Twilio signed: public base (which may carry a path prefix) + request path. */
export const signedUrl = (publicUrl: string, requestUrl: string): string =>
  `${publicUrl.replace(/\/+$/, '')}${requestUrl}`;

export function isValidTwilioSignature(
  authToken: string,
  publicUrl: string,
  request: SignedRequest,
): boolean {
  const signature = request.headers['x-twilio-signature'];
  if (typeof signature !== 'string' || signature === '') return false;
  const params =
    request.body && typeof request.body === 'object'
      ? (request.body as Record<string, unknown>)
      : {};
  return twilio.validateRequest(authToken, signature, signedUrl(publicUrl, request.url), params);
}
