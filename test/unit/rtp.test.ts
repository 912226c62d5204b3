// RTP as the media bridge reads and writes it.
import { strict as assert } from 'node:assert';
import { decodeRtp, encodeRtp, PCMU_PAYLOAD_TYPE } from '../../media-edge/media/rtp';

describe('RTP packets', () => {
  const payload = Buffer.from(Array.from({ length: 160 }, (_, i) => i));

  it('round-trips a PCMU packet: header fields and the payload unchanged', () => {
    const header = {
      payloadType: PCMU_PAYLOAD_TYPE,
      sequenceNumber: 65_535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      marker: true,
    };
    const packet = encodeRtp(header, payload);
    assert.equal(packet.length, 12 + 160);
    assert.deepEqual(decodeRtp(packet), { ...header, payload });
  });

  it('finds the payload behind CSRCs, a header extension and padding', () => {
    const csrcs = 2;
    const ext = Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00]); // one word
    const padding = Buffer.from([0, 0, 3]);
    const head = Buffer.alloc(12 + 4 * csrcs);
    head[0] = 0x80 | 0x20 | 0x10 | csrcs; // V=2, P, X, CC=2
    head[1] = PCMU_PAYLOAD_TYPE;
    const packet = Buffer.concat([head, ext, payload, padding]);
    assert.deepEqual(decodeRtp(packet)?.payload, payload);
  });

  it('ignores RTCP on the same port (rtcp-mux) and anything malformed', () => {
    const senderReport = Buffer.alloc(28);
    senderReport[0] = 0x80;
    senderReport[1] = 200;
    assert.equal(decodeRtp(senderReport), undefined);
    assert.equal(decodeRtp(Buffer.alloc(8)), undefined, 'shorter than a header');
    const v1 = encodeRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1 }, payload);
    v1[0] = 0x40;
    assert.equal(decodeRtp(v1), undefined, 'not version 2');
  });
});
