// Local stand-ins for the alerting vendors, which cannot be reached from here. Each replays
// its vendor's documented wire protocol, checks what it is sent the way the vendor does, keeps
// the incidents open as the vendor would, and records every request:
// - PagerDuty Events API v2: POST /v2/enqueue, JSON {routing_key, event_action, dedup_key,
//   payload{summary, source, severity, …}}; 202 {status: "success", message: "Event
//   processed", dedup_key}; 400 {status: "invalid event", message, errors: [...]}; 429 when
//   throttled.
// - Alertmanager API v2: POST /api/v2/alerts, a JSON array of postable alerts {labels,
//   annotations?, startsAt?, endsAt?, generatorURL?}; 200 with an empty body; 400 with
//   {code, message}. An alert is its label set; endsAt in the past resolves it.
import type { IncomingMessage } from 'node:http';
import { JsonHttpServer, type JsonReply } from '../../testing/json-http';

export interface AlertRequest {
  path: string;
  body: unknown;
}

/** What a stand-in does instead of answering: a status of its own, or no answer. */
export type Outage = { status: number } | 'hang' | undefined;

abstract class AlertVendorStandIn {
  readonly requests: AlertRequest[] = [];
  outage: Outage;
  url = '';
  private readonly server = new JsonHttpServer((req) => this.serve(req));
  private readonly hanging = new Set<() => void>();

  async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  async stop(): Promise<void> {
    this.hanging.forEach((f) => f());
    await this.server.stop();
  }

  /** The dedup keys of the incidents open at the vendor now. */
  abstract openIncidents(): string[];
  abstract triggers(): number;
  abstract resolves(): number;

  protected abstract handle(path: string, body: unknown, headers: IncomingMessage['headers']): JsonReply; // prettier-ignore

  private async serve(req: IncomingMessage): Promise<JsonReply> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (this.outage === 'hang') {
      await new Promise<void>((resolve) => {
        this.hanging.add(resolve);
        req.once('close', resolve);
      });
      return { status: 504, body: {} };
    }
    if (this.outage) return { status: this.outage.status, body: { message: 'stand-in outage' } };
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return {
        status: 400,
        body: { status: 'invalid event', message: 'Invalid JSON', errors: [] },
      };
    }
    this.requests.push({ path: req.url ?? '', body });
    return this.handle(req.url ?? '', body, req.headers);
  }
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

export class PagerDutyStandIn extends AlertVendorStandIn {
  private readonly open = new Set<string>();
  constructor(readonly routingKey = 'R0UT1NGKEY0123456789012345678901') {
    super();
  }

  openIncidents(): string[] {
    return [...this.open];
  }
  triggers(): number {
    return this.requests.filter((r) => (r.body as { event_action?: string }).event_action === 'trigger').length; // prettier-ignore
  }
  resolves(): number {
    return this.requests.filter((r) => (r.body as { event_action?: string }).event_action === 'resolve').length; // prettier-ignore
  }

  protected handle(path: string, raw: unknown): JsonReply {
    if (path !== '/v2/enqueue') return { status: 404, body: { message: 'Not Found' } };
    const b = raw as {
      routing_key?: unknown;
      event_action?: unknown;
      dedup_key?: unknown;
      payload?: { summary?: unknown; source?: unknown; severity?: unknown };
    };
    const errors: string[] = [];
    if (typeof b.routing_key !== 'string' || b.routing_key.length !== 32) {
      errors.push("'routing_key' must be a 32 character string");
    }
    if (!['trigger', 'acknowledge', 'resolve'].includes(String(b.event_action))) {
      errors.push("'event_action' is invalid (must be one of trigger, acknowledge, resolve)");
    }
    if (
      b.dedup_key !== undefined &&
      (typeof b.dedup_key !== 'string' || b.dedup_key.length > 255)
    ) {
      errors.push("'dedup_key' must be a string of at most 255 characters");
    }
    if (b.event_action === 'trigger') {
      const p = b.payload;
      if (typeof p?.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) {
        errors.push("'payload.summary' is missing or blank");
      }
      if (typeof p?.source !== 'string' || p.source.length === 0) {
        errors.push("'payload.source' is missing or blank");
      }
      if (!SEVERITIES.includes(String(p?.severity))) {
        errors.push(
          "'payload.severity' is invalid (must be one of critical, error, warning, info)",
        );
      }
    } else if (typeof b.dedup_key !== 'string') {
      errors.push("'dedup_key' is required for acknowledge and resolve");
    }
    if (errors.length) {
      return {
        status: 400,
        body: { status: 'invalid event', message: 'Event object is invalid', errors },
      };
    }
    if (b.routing_key !== this.routingKey) {
      // PagerDuty accepts any well-formed key and drops events of unknown ones; here a wrong
      // key is refused so a test sees it.
      return {
        status: 400,
        body: { status: 'invalid event', message: 'Unknown routing key', errors: [] },
      };
    }
    const key = b.dedup_key as string;
    if (b.event_action === 'trigger') this.open.add(key);
    if (b.event_action === 'resolve') this.open.delete(key);
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } };
  }
}

export class AlertmanagerStandIn extends AlertVendorStandIn {
  /** Alerts by their label set: endsAt, or undefined while firing. */
  private readonly alerts = new Map<string, { labels: Record<string, string>; endsAt?: number }>();

  openIncidents(): string[] {
    const now = Date.now();
    return [...this.alerts.values()]
      .filter((a) => a.endsAt === undefined || a.endsAt > now)
      .map((a) => a.labels.dedup_key ?? JSON.stringify(a.labels));
  }
  private posted(): { endsAt?: string }[] {
    return this.requests.flatMap((r) => (Array.isArray(r.body) ? (r.body as { endsAt?: string }[]) : [])); // prettier-ignore
  }
  triggers(): number {
    return this.posted().filter((a) => a.endsAt === undefined).length;
  }
  resolves(): number {
    return this.posted().filter((a) => a.endsAt !== undefined).length;
  }

  protected handle(path: string, raw: unknown): JsonReply {
    if (path !== '/api/v2/alerts')
      return { status: 404, body: { code: 404, message: 'not found' } };
    if (!Array.isArray(raw)) return { status: 400, body: { code: 400, message: 'body must be an array of alerts' } }; // prettier-ignore
    for (const [i, a] of (raw as Record<string, unknown>[]).entries()) {
      const labels = a.labels as Record<string, unknown> | undefined;
      const bad =
        !labels || typeof labels !== 'object' || Object.keys(labels).length === 0
          ? 'labels in body is required'
          : Object.values(labels).some((v) => typeof v !== 'string')
            ? 'labels must be strings'
            : ['startsAt', 'endsAt'].find((k) => a[k] !== undefined && (typeof a[k] !== 'string' || Number.isNaN(Date.parse(a[k])))) // prettier-ignore
              ? 'startsAt/endsAt must be RFC 3339 times'
              : undefined;
      if (bad) return { status: 400, body: { code: 400, message: `[${i}] ${bad}` } };
    }
    for (const a of raw as { labels: Record<string, string>; endsAt?: string }[]) {
      const key = JSON.stringify(Object.entries(a.labels).sort());
      this.alerts.set(key, {
        labels: a.labels,
        ...(a.endsAt !== undefined && { endsAt: Date.parse(a.endsAt) }),
      });
    }
    return { status: 200, body: '' };
  }
}
