// Toxiproxy as the fault tests use it (testing/faults.ts), proved on the real Redis: a PING
// through the proxy answers; each fault then does to the client what it claims to.
import assert from 'node:assert/strict';
import net from 'node:net';
import { infraUp, redisUrl } from '../infra';
import { type FaultProxies, type FaultProxy, hostPort, startFaultProxy } from '../testing/faults';

/**
 * Redis PING over a plain socket, so each fault shows as itself (ECONNREFUSED, ECONNRESET, or
 * no reply within the timeout) rather than as a client library's reconnection.
 */
function ping(listen: string, timeoutMs = 500): Promise<string> {
  const [host, port] = listen.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply within ${timeoutMs} ms (timeout)`));
    }, timeoutMs);
    const done = (err?: Error, reply?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (buf) => done(undefined, buf.toString().trim().replace(/^\+/, '')));
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(new Error('connection closed without a reply')));
  });
}

describe('faults: Toxiproxy in front of a real server', function () {
  this.timeout(300_000); // a first run builds Toxiproxy

  let faults: FaultProxies;
  let proxy: FaultProxy;

  before(async () => {
    await infraUp({ quiet: true });
    faults = await startFaultProxy();
  });

  beforeEach(async () => {
    proxy = await faults.proxy('faults-test-redis', hostPort(redisUrl()));
  });

  after(async () => {
    await faults?.remove('faults-test-redis');
  });

  it('passes traffic through while healthy', async () => {
    assert.notEqual(proxy.listen, hostPort(redisUrl()));
    assert.equal(await ping(proxy.listen), 'PONG');
  });

  it('is idempotent: a second start reuses the same server', async () => {
    const again = await startFaultProxy();
    assert.equal(again.url, faults.url);
    assert.equal(await ping(proxy.listen), 'PONG');
  });

  it('down() refuses connections and up() restores them on the same address', async () => {
    await proxy.down();
    assert.equal(await proxy.enabled(), false);
    await assert.rejects(ping(proxy.listen), /ECONNREFUSED/);
    await proxy.up();
    assert.equal(await ping(proxy.listen), 'PONG');
  });

  it('latency() holds replies back (listed as a toxic; a short client timeout trips)', async () => {
    await proxy.latency(1_500);
    assert.deepEqual(
      (await proxy.toxics()).map((t) => [t.type, t.attributes.latency]),
      [['latency', 1_500]],
    );
    await assert.rejects(ping(proxy.listen), /timed out|timeout/i);
    await proxy.clear();
    assert.equal(await ping(proxy.listen), 'PONG');
  });

  it('blackhole() accepts the connection and answers nothing', async () => {
    await proxy.blackhole();
    assert.deepEqual(
      (await proxy.toxics()).map((t) => t.type),
      ['timeout'],
    );
    await assert.rejects(ping(proxy.listen), /timed out|timeout/i);
    await proxy.clear();
    assert.deepEqual(await proxy.toxics(), []);
    assert.equal(await ping(proxy.listen), 'PONG');
  });

  it('resetPeer() resets the connection', async () => {
    await proxy.resetPeer();
    await assert.rejects(ping(proxy.listen), /ECONNRESET/);
    await proxy.clear();
    assert.equal(await ping(proxy.listen), 'PONG');
  });

  it('a new proxy of the same name starts healthy (no toxic left from a run before)', async () => {
    await proxy.blackhole();
    const fresh = await faults.proxy('faults-test-redis', hostPort(redisUrl()));
    assert.deepEqual(await fresh.toxics(), []);
    assert.equal(await ping(fresh.listen), 'PONG');
  });
});
