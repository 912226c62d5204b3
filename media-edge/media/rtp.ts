// RTP (RFC 3550) as the bridge needs it: a fixed 12-byte header on the way out, and on the
// way in the payload behind whatever CSRCs, header extension and padding a packet carries.
// RTCP shares the port (rtcp-mux) and is told apart by its packet type (RFC 5761).

/** PCMU (G.711 μ-law, 8 kHz): the static payload type, the same bytes Twilio's media carry. */
export const PCMU_PAYLOAD_TYPE = 0;

export interface RtpHeader {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
}

export interface RtpPacket extends RtpHeader {
  payload: Buffer;
}

export function encodeRtp(header: RtpHeader, payload: Buffer): Buffer {
  const packet = Buffer.alloc(12 + payload.length);
  packet[0] = 0x80; // version 2, no padding, no extension, no CSRCs
  packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  packet.writeUInt16BE(header.sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(header.timestamp >>> 0, 4);
  packet.writeUInt32BE(header.ssrc >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
}

/** The RTP packet in `data`, or undefined for RTCP and anything malformed. */
export function decodeRtp(data: Buffer): RtpPacket | undefined {
  if (data.length < 12 || data[0]! >> 6 !== 2) return undefined;
  const payloadType = data[1]! & 0x7f;
  if (payloadType >= 72 && payloadType <= 79) return undefined; // RTCP 200–207 (marker bit set)
  let offset = 12 + 4 * (data[0]! & 0x0f);
  if (data[0]! & 0x10) {
    if (data.length < offset + 4) return undefined;
    offset += 4 + 4 * data.readUInt16BE(offset + 2);
  }
  let end = data.length;
  if (data[0]! & 0x20) end -= data[data.length - 1]!;
  if (end < offset) return undefined;
  return {
    payloadType,
    marker: (data[1]! & 0x80) !== 0,
    sequenceNumber: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
    payload: data.subarray(offset, end),
  };
}
