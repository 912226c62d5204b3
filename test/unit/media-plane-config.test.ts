// The media plane's settings and its start without a worker binary: a clear refusal that
// names the command that builds it.
import { strict as assert } from 'node:assert';
import { MediaPlane, MediaWorkerMissingError } from '../../media-edge/media/media-plane';
import { loadMediaPlaneConfig } from '../../media-edge/media/media-plane-config';

describe('media plane configuration', () => {
  it('is on by default, listening on loopback with a port range for WebRTC', () => {
    assert.deepEqual(loadMediaPlaneConfig({}), {
      enabled: true,
      listenIp: '127.0.0.1',
      rtcMinPort: 40_000,
      rtcMaxPort: 40_999,
    });
    const off = loadMediaPlaneConfig({
      MEDIA_PLANE: 'off',
      MEDIASOUP_LISTEN_IP: '0.0.0.0',
      MEDIASOUP_ANNOUNCED_ADDRESS: 'edge-1.example.com',
      MEDIASOUP_RTC_MIN_PORT: '50000',
      MEDIASOUP_RTC_MAX_PORT: '50099',
    });
    assert.equal(off.enabled, false);
    assert.equal(off.announcedAddress, 'edge-1.example.com');
    assert.equal(off.rtcMaxPort, 50_099);
  });

  it('refuses bad values, naming the variable', () => {
    assert.throws(() => loadMediaPlaneConfig({ MEDIA_PLANE: 'maybe' }), /MEDIA_PLANE/);
    assert.throws(
      () =>
        loadMediaPlaneConfig({ MEDIASOUP_RTC_MIN_PORT: '41000', MEDIASOUP_RTC_MAX_PORT: '40000' }),
      /MEDIASOUP_RTC_MIN_PORT/,
    );
  });

  it('without the worker binary the plane does not start, and says how to build it', async () => {
    const saved = process.env.MEDIASOUP_WORKER_BIN;
    process.env.MEDIASOUP_WORKER_BIN = '/nonexistent/mediasoup-worker';
    try {
      await assert.rejects(
        MediaPlane.start(loadMediaPlaneConfig({}), () => undefined),
        (err: Error) =>
          err instanceof MediaWorkerMissingError &&
          err.message.includes('/nonexistent/mediasoup-worker') &&
          err.message.includes('./switchboard infra up') &&
          err.message.includes('MEDIA_PLANE=off'),
      );
    } finally {
      if (saved === undefined) delete process.env.MEDIASOUP_WORKER_BIN;
      else process.env.MEDIASOUP_WORKER_BIN = saved;
    }
  });
});
