// Where the desk's WebRTC transports listen: defaults, and a bad value names its variable.
import assert from 'node:assert/strict';
import { deskRtcSettingsFromEnv } from '../../media-edge/desk/webrtc/rtc-settings';

describe('desk WebRTC settings', () => {
  it('listens on loopback, UDP 40000–49999, announcing nothing, by default', () => {
    assert.deepEqual(deskRtcSettingsFromEnv({}), {
      listenIp: '127.0.0.1',
      announcedAddress: undefined,
      portRange: { min: 40_000, max: 49_999 },
    });
  });

  it('takes a public address to announce and a port range', () => {
    const settings = deskRtcSettingsFromEnv({
      DESK_RTC_LISTEN_IP: '0.0.0.0',
      DESK_RTC_ANNOUNCED_ADDRESS: 'edge-1.example.com',
      DESK_RTC_MIN_PORT: '50000',
      DESK_RTC_MAX_PORT: '50099',
    });
    assert.equal(settings.announcedAddress, 'edge-1.example.com');
    assert.deepEqual(settings.portRange, { min: 50_000, max: 50_099 });
  });

  it('refuses a listen address that is not an IP, and a range upside down, naming the variable', () => {
    assert.throws(
      () => deskRtcSettingsFromEnv({ DESK_RTC_LISTEN_IP: 'edge.example.com' }),
      /DESK_RTC_LISTEN_IP/,
    );
    assert.throws(
      () => deskRtcSettingsFromEnv({ DESK_RTC_MIN_PORT: '45000', DESK_RTC_MAX_PORT: '44000' }),
      /DESK_RTC_MIN_PORT must not be above DESK_RTC_MAX_PORT/,
    );
  });
});
