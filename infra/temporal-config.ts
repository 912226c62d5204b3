// temporal.yaml: one file says what the app needs from Temporal (namespace, task queues,
// search attributes, dev-server settings). `infra up` and `temporal setup` both apply it.
import fs from 'node:fs';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msNumberToTs, tsToMs } from '@temporalio/common/lib/time';
import YAML from 'yaml';
import { z } from 'zod';
import { defaultLog, type Log, temporalYamlPath } from './paths';

// Codes of the IndexedValueType proto enum (@temporalio/proto is not a direct dependency).
const indexedValueType = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
} as const;
type SearchAttributeType = keyof typeof indexedValueType;
const typeNames = Object.keys(indexedValueType) as [SearchAttributeType, ...SearchAttributeType[]];

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier');
const port = z.number().int().min(1).max(65535);

// strictObject: a misspelt key is an error, not a silently ignored setting.
const schema = z.strictObject({
  namespace: z.string().min(1),
  retentionInDays: z.number().int().min(1).default(7),
  taskQueues: z.strictObject({
    calls: z.string().min(1),
    postCall: z.string().min(1),
    edgePrefix: z.string().min(1),
  }),
  searchAttributes: z.record(identifier, z.enum(typeNames)).default({}),
  devServer: z
    .strictObject({
      ip: z.string().default('127.0.0.1'),
      port: port.default(7233),
      uiPort: port.default(8233),
      /** The Web UI decrypts history through the history codec on this port. */
      uiCodecPort: port.default(8234),
      dynamicConfig: z.record(z.string(), z.json()).default({}),
    })
    .prefault({}),
});
export type TemporalConfig = z.infer<typeof schema>;

const cache = new Map<string, TemporalConfig>();

/** Reads and validates temporal.yaml; throws an Error naming the file and each bad field. */
export function loadTemporalConfig(file = temporalYamlPath): TemporalConfig {
  const cached = cache.get(file);
  if (cached) return cached;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new Error(`${file} is invalid:\n${z.prettifyError(parsed.error)}`);
  }
  cache.set(file, parsed.data);
  return parsed.data;
}

/** `start-dev` flags for the settings that can only be given at server start. */
export function devServerFlags(cfg: TemporalConfig): string[] {
  return [
    ...['--namespace', cfg.namespace],
    ...Object.entries(cfg.searchAttributes).flatMap(([k, t]) => [
      '--search-attribute',
      `${k}=${t}`,
    ]),
    ...Object.entries(cfg.devServer.dynamicConfig).flatMap(([k, v]) => [
      '--dynamic-config-value',
      `${k}=${JSON.stringify(v)}`,
    ]),
  ];
}

export interface ApplyOptions {
  namespace?: string;
  apiKey?: string;
  tls?: boolean;
  config?: TemporalConfig;
  log?: Log;
}

export interface ApplyResult {
  namespace: string;
  namespaceCreated: boolean;
  retentionUpdated: boolean;
  searchAttributesAdded: string[];
}

const NOT_FOUND = 5; // gRPC status codes
const ALREADY_EXISTS = 6;
const grpcCode = (err: unknown): number | undefined =>
  isGrpcServiceError(err) ? Number(err.code) : undefined;

/**
 * Creates the namespace and search attributes on any cluster; safe to run again.
 * Needed even on the dev server: start-dev registers search attributes only when it creates
 * its database, so attributes added to temporal.yaml later would otherwise never appear.
 */
export async function applyTemporalConfig(
  address: string,
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  const cfg = opts.config ?? loadTemporalConfig();
  const namespace = opts.namespace ?? cfg.namespace;
  const log = opts.log ?? defaultLog;
  const retentionMs = cfg.retentionInDays * 86_400_000;
  const retention = msNumberToTs(retentionMs);
  const conn = await Connection.connect({
    address,
    tls: opts.tls || opts.apiKey ? true : undefined,
    apiKey: opts.apiKey,
    connectTimeout: '10s',
  }).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${address}: ${err.message}`);
  });
  const result: ApplyResult = {
    namespace,
    namespaceCreated: false,
    retentionUpdated: false,
    searchAttributesAdded: [],
  };
  try {
    const ns = await conn.workflowService.describeNamespace({ namespace }).catch((err) => {
      if (grpcCode(err) === NOT_FOUND) return undefined;
      throw err;
    });
    if (!ns) {
      await conn.workflowService
        .registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention })
        .catch((err) => {
          if (grpcCode(err) !== ALREADY_EXISTS) throw err; // a concurrent setup won the race
        });
      result.namespaceCreated = true;
      log(`created namespace ${namespace} (retention ${cfg.retentionInDays} d)`);
    } else if (tsToMs(ns.config?.workflowExecutionRetentionTtl) !== retentionMs) {
      // start-dev creates namespaces with 1 day retention; temporal.yaml decides.
      await conn.workflowService.updateNamespace({
        namespace,
        config: { workflowExecutionRetentionTtl: retention },
      });
      result.retentionUpdated = true;
      log(`set retention of ${namespace} to ${cfg.retentionInDays} d`);
    }

    const existing = await listCustomAttributes(conn, namespace);
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(cfg.searchAttributes)) {
      const have = existing[name];
      if (have === undefined) missing[name] = indexedValueType[type];
      else if (have !== indexedValueType[type]) {
        // The server silently ignores a re-add with another type; a type cannot change.
        const haveName = typeNames.find((t) => indexedValueType[t] === have) ?? `type ${have}`;
        throw new Error(
          `search attribute ${name} exists on namespace ${namespace} as ${haveName}, ` +
            `but temporal.yaml declares ${type}; a search attribute's type cannot change`,
        );
      }
    }
    if (Object.keys(missing).length > 0) {
      await conn.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
      result.searchAttributesAdded = Object.keys(missing);
      log(`added search attributes ${result.searchAttributesAdded.join(', ')} to ${namespace}`);
    }
    return result;
  } finally {
    await conn.close();
  }
}

// A namespace just registered may not be in the server's namespace cache yet: retry briefly.
async function listCustomAttributes(conn: Connection, namespace: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await conn.operatorService.listSearchAttributes({ namespace });
      return res.customAttributes as Record<string, number>;
    } catch (err) {
      if (grpcCode(err) !== NOT_FOUND || attempt >= 40) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
