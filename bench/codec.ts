// What encrypting history costs: every payload of a recorded paid-bill call (its input, the
// turns' updates and replies, activity arguments and results) through the data converter
// with the AES-GCM codec, encode then decode, against the JSON converter alone in the same
// run. `./switchboard bench --codec`.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoadedDataConverter, Payload } from '@temporalio/common';
import {
  decodeFromPayloadsAtIndex,
  encodeToPayloads,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { newPayloadKeys, historyDataConverter } from '../infra/payload-codec';
import { repoRoot } from '../infra/paths';
import { pct, spread } from './percentile';

const HISTORY = path.join(repoRoot, 'test', 'histories', 'paid-bill-account-ahead.json');

/** Every payload in the history, as the values the workflow and the edge exchanged. */
function valuesOf(converter: LoadedDataConverter): unknown[] {
  const history = historyFromJSON(JSON.parse(fs.readFileSync(HISTORY, 'utf8')));
  const payloads: Payload[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
    if ('metadata' in node && 'data' in node) payloads.push(node as Payload);
    else for (const v of Object.values(node)) walk(v);
  };
  walk(history.events);
  return payloads.map((p) => converter.payloadConverter.fromPayload(p));
}

async function timeEach(converter: LoadedDataConverter, values: unknown[], rounds: number) {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++)
    for (const v of values) {
      const t0 = performance.now();
      const encoded = await encodeToPayloads(converter, v);
      await decodeFromPayloadsAtIndex(converter, 0, encoded);
      times.push((performance.now() - t0) * 1000);
    }
  return times;
}

export async function runCodecBench(opts: { rounds?: number } = {}): Promise<void> {
  const rounds = opts.rounds ?? 200;
  const plain = loadDataConverter({});
  const sealed = loadDataConverter(
    historyDataConverter({ PAYLOAD_ENCRYPTION_KEYS: newPayloadKeys('bench') }),
  );
  const values = valuesOf(plain);
  const bytes = values.map((v) => JSON.stringify(v ?? null).length);
  await timeEach(sealed, values, 5); // warm-up
  await timeEach(plain, values, 5);
  // Interleaved rounds, so drift in the machine's load falls on both alike.
  const withCodec: number[] = [];
  const jsonOnly: number[] = [];
  for (let r = 0; r < rounds; r++) {
    withCodec.push(...(await timeEach(sealed, values, 1)));
    jsonOnly.push(...(await timeEach(plain, values, 1)));
  }
  const result = {
    node: process.version,
    history: path.relative(repoRoot, HISTORY),
    payloads: values.length,
    payloadBytesP50: pct(bytes, 50),
    payloadBytesMax: Math.max(...bytes),
    roundTrips: withCodec.length,
    unit: 'µs per payload, encode + decode',
    withCodec: spread(withCodec),
    baselineJsonOnly: spread(jsonOnly),
    ratioP50: +(pct(withCodec, 50) / pct(jsonOnly, 50)).toFixed(1),
    ratioP95: +(pct(withCodec, 95) / pct(jsonOnly, 95)).toFixed(1),
    measuredAt: new Date().toISOString(),
  };
  console.log(
    `[bench] history codec, ${result.payloads} payloads of a paid-bill call × ${rounds}: ` +
      `p50 ${result.withCodec.p50} / p95 ${result.withCodec.p95} / p99 ${result.withCodec.p99} µs; ` +
      `JSON alone p50 ${result.baselineJsonOnly.p50} / p95 ${result.baselineJsonOnly.p95} µs ` +
      `(×${result.ratioP50} / ×${result.ratioP95})`,
  );
  const out = path.join(repoRoot, 'bench', 'results', 'codec');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  console.log('results: bench/results/codec/latest.json');
}
