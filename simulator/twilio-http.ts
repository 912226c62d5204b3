// Twilio's side of a webhook: a form POST signed over the public URL the edge validates.
import twilio from 'twilio';

export interface SignedTarget {
  /** Where the edge listens. */
  edgeUrl: string;
  /** The public URL the edge validates signatures against (EDGE_PUBLIC_URL). */
  publicUrl: string;
  authToken: string;
}

export async function postSignedWebhook(
  target: SignedTarget,
  path: string,
  params: Record<string, string>,
): Promise<string> {
  const base = (url: string) => url.replace(/\/+$/, '');
  const signature = twilio.getExpectedTwilioSignature(
    target.authToken,
    base(target.publicUrl) + path,
    params,
  );
  const res = await fetch(base(target.edgeUrl) + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
    },
    body: new URLSearchParams(params),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 300)}`);
  return body;
}
