// Real faults for tests and `bench --faults`: a Toxiproxy proxy in front of a real server
// (Redis, SeaweedFS, a vendor stand-in), driven over Toxiproxy's HTTP API. A client pointed
// at `proxy.listen` sees what it would see from a sick upstream: refused connections, added
// latency, a black hole, resets. A small fetch client: the API is six routes, and the npm
// clients add little over it.
import { startToxiproxy, type ToxiproxyServer } from '../infra/toxiproxy';
import { silentLog } from '../infra/paths';

type Stream = 'upstream' | 'downstream';

export interface Toxic {
  name: string;
  type: string;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, number>;
}

interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

class ToxiproxyApi {
  constructor(readonly url: string) {}

  async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${route}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Toxiproxy ${method} ${route}: ${res.status} ${text.trim()}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** One upstream behind Toxiproxy; `listen` is where its clients connect instead. */
export class FaultProxy {
  constructor(
    private readonly api: ToxiproxyApi,
    readonly name: string,
    /** host:port clients connect to. */
    readonly listen: string,
    readonly upstream: string,
  ) {}

  /** The upstream is gone: open connections close, new ones are refused. */
  async down(): Promise<void> {
    await this.api.call('POST', `/proxies/${this.name}`, { enabled: false });
  }

  async up(): Promise<void> {
    await this.api.call('POST', `/proxies/${this.name}`, { enabled: true });
  }

  /** Every reply (downstream) is held `ms` longer. */
  async latency(ms: number, jitterMs = 0): Promise<void> {
    await this.addToxic('latency', 'downstream', { latency: ms, jitter: jitterMs });
  }

  /**
   * Connections are accepted and nothing comes back: data is dropped until clear(), the way
   * a host behind a dead route looks. Only a client's own timeout ends the wait.
   */
  async blackhole(): Promise<void> {
    await this.addToxic('timeout', 'upstream', { timeout: 0 });
  }

  /** Each connection is reset (TCP RST) `afterMs` after its first data. */
  async resetPeer(afterMs = 0): Promise<void> {
    await this.addToxic('reset_peer', 'upstream', { timeout: afterMs });
  }

  /** Removes every toxic and enables the proxy: the upstream is healthy again. */
  async clear(): Promise<void> {
    for (const t of await this.toxics()) {
      await this.api.call('DELETE', `/proxies/${this.name}/toxics/${t.name}`);
    }
    await this.up();
  }

  async toxics(): Promise<Toxic[]> {
    return this.api.call<Toxic[]>('GET', `/proxies/${this.name}/toxics`);
  }

  async enabled(): Promise<boolean> {
    return (await this.api.call<ProxyState>('GET', `/proxies/${this.name}`)).enabled;
  }

  private async addToxic(
    type: string,
    stream: Stream,
    attributes: Record<string, number>,
  ): Promise<void> {
    const name = `${type}_${stream}`;
    const existing = await this.toxics();
    const route = `/proxies/${this.name}/toxics`;
    if (existing.some((t) => t.name === name)) {
      await this.api.call('POST', `${route}/${name}`, { attributes });
    } else {
      await this.api.call('POST', route, { name, type, stream, toxicity: 1, attributes });
    }
  }
}

export class FaultProxies {
  constructor(private readonly api: ToxiproxyApi) {}

  get url(): string {
    return this.api.url;
  }

  /**
   * A proxy named `name` in front of `upstream` (host:port) on a free loopback port; one of
   * that name left by an earlier run is replaced, so each test starts from a healthy proxy.
   */
  async proxy(name: string, upstream: string): Promise<FaultProxy> {
    const existing = await this.api.call<Record<string, ProxyState>>('GET', '/proxies');
    if (existing[name]) await this.api.call('DELETE', `/proxies/${name}`);
    const created = await this.api.call<ProxyState>('POST', '/proxies', {
      name,
      listen: '127.0.0.1:0',
      upstream,
      enabled: true,
    });
    return new FaultProxy(this.api, name, created.listen, upstream);
  }

  /** Deletes a proxy (its listener closes). */
  async remove(name: string): Promise<void> {
    await this.api.call('DELETE', `/proxies/${name}`).catch(() => undefined);
  }
}

let server: Promise<ToxiproxyServer> | undefined;

/** Starts (or reuses) the Toxiproxy server on TOXIPROXY_PORT; idempotent within a process. */
export async function startFaultProxy(log = silentLog): Promise<FaultProxies> {
  server ??= startToxiproxy(log);
  const started = server;
  try {
    return new FaultProxies(new ToxiproxyApi((await started).url));
  } catch (err) {
    if (server === started) server = undefined;
    throw err;
  }
}

/** Stops the server startFaultProxy started (the test hooks call it once, at the end). */
export async function stopFaultProxy(): Promise<void> {
  const started = server;
  server = undefined;
  await (await started?.catch(() => undefined))?.stop();
}

/** `host:port` of a URL (redis://…, http://…), what a proxy's upstream takes. */
export function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
}

/** The URL with its host:port swapped for the proxy's listen address. */
export function throughProxy(url: string, proxy: FaultProxy): string {
  const u = new URL(url);
  const [host, port] = proxy.listen.split(':');
  u.hostname = host!;
  u.port = port!;
  return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
}
