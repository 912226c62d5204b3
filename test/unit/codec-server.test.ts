// The Web UI's remote codec over HTTP: what the UI posts, what it gets back, who may ask.
import assert from 'node:assert/strict';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { buildCodecServer } from '../../infra/codec-server';
import {
  EncryptingPayloadCodec,
  newPayloadKeys,
  parsePayloadKeys,
} from '../../infra/payload-codec';

const UI = 'http://127.0.0.1:8233';
const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('base64');
const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(p.data),
});

describe('history codec server (the Web UI’s remote codec)', () => {
  const codec = new EncryptingPayloadCodec(parsePayloadKeys(newPayloadKeys('k1')));
  const logged: string[] = [];
  const app = buildCodecServer(codec, { origins: [UI], log: (l) => logged.push(l) });
  after(() => app.close());

  const post = (url: string, payload: object, origin = UI) =>
    app.inject({ method: 'POST', url, headers: { origin, 'x-namespace': 'switchboard' }, payload });

  it('decodes what the UI posts: encrypted payloads back as the JSON they hold', async () => {
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload({ from: '+15550100001' })]); // prettier-ignore
    const res = await post('/decode', { payloads: [asJson(sealed!)] });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['access-control-allow-origin'], UI);
    const [p] = res.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>().payloads; // prettier-ignore
    assert.equal(Buffer.from(p!.metadata.encoding!, 'base64').toString(), 'json/plain');
    assert.deepEqual(JSON.parse(Buffer.from(p!.data, 'base64').toString()), { from: '+15550100001' }); // prettier-ignore
  });

  it('encodes what an operator types (a signal from the UI) so the workers can read it', async () => {
    const plain = defaultPayloadConverter.toPayload('completed');
    const res = await post('/encode', { payloads: [asJson(plain)] });
    const [p] = res.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>().payloads; // prettier-ignore
    assert.equal(Buffer.from(p!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    const sealed = { metadata: { encoding: Buffer.from(p!.metadata.encoding!, 'base64'), 'encryption-key-id': Buffer.from(p!.metadata['encryption-key-id']!, 'base64') }, data: Buffer.from(p!.data, 'base64') }; // prettier-ignore
    assert.equal(defaultPayloadConverter.fromPayload((await codec.decode([sealed]))[0]!), 'completed'); // prettier-ignore
  });

  it('answers the UI’s preflight, and refuses another origin', async () => {
    const pre = await app.inject({ method: 'OPTIONS', url: '/decode', headers: { origin: UI, 'access-control-request-method': 'POST' } }); // prettier-ignore
    assert.equal(pre.statusCode, 204);
    assert.match(String(pre.headers['access-control-allow-headers']), /x-namespace/);
    const other = await post('/decode', { payloads: [] }, 'https://evil.example');
    assert.equal(other.statusCode, 403);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('a payload under a key it does not hold stays ciphertext; the others still decode', async () => {
    const stranger = new EncryptingPayloadCodec(parsePayloadKeys(newPayloadKeys('gone')));
    const [foreign] = await stranger.encode([defaultPayloadConverter.toPayload('x')]);
    const [mine] = await codec.encode([defaultPayloadConverter.toPayload('Hello Ada')]);
    const res = await post('/decode', { payloads: [asJson(foreign!), asJson(mine!)] });
    const [a, b] = res.json<{ payloads: { data: string }[] }>().payloads;
    assert.equal(a!.data, b64(foreign!.data));
    assert.equal(Buffer.from(b!.data, 'base64').toString(), '"Hello Ada"');
    assert.match(logged.join('\n'), /could not decode a payload: .*"gone"/);
  });

  it('a body that is not {payloads: […]} is a 400 saying what is expected', async () => {
    const res = await post('/decode', { data: 'x' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json<{ error: string }>().error, /expected \{"payloads"/);
  });
});
