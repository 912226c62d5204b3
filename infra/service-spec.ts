// What the launcher knows of a service: how to tell it runs (ServiceInfo) and how to start
// it (ServiceSpec). Each service's module (services.ts, kafka.ts) builds its own.
import type { ServiceName } from './paths';

/** What identifies a service without starting it: enough for status and stop. */
export interface ServiceInfo {
  name: ServiceName;
  /** A string in /proc/<pid>/cmdline that tells our process from a recycled pid. */
  marker: string;
  /** Postgres: SIGTERM is a "smart" shutdown that waits for every client to leave. */
  stopSignal: NodeJS.Signals;
  probe: () => Promise<boolean>;
  /** Cleans up after the process exited (files it leaves behind). */
  afterStop?: () => void;
}

export interface ServiceSpec extends ServiceInfo {
  command: string;
  args: string[];
  ports: { port: number; host: string; env: string; what: string }[];
  runAs?: { uid: number; gid: number };
  startTimeoutMs: number;
  /** Runs just before the process is spawned (not when ours already runs). */
  beforeStart?: () => void;
}
