// The day's latency per pipeline stage as a PNG: p50 and p95 bars side by side. The chart
// is an SVG built here and rasterized by resvg (@resvg/resvg-js, a native binary in the npm
// package); labels use the system's fonts (DejaVu Sans on Debian).
import { Resvg } from '@resvg/resvg-js';
import type { StageLatency } from './day-report';

const W = 760;
const H = 420;
const M = { top: 56, right: 24, bottom: 64, left: 72 };
const COLORS = { p50: '#4C78A8', p95: '#F58518' };

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `max`. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const pow = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * pow).find((v) => v >= max)!;
}

export function latencyChartSvg(day: string, latency: StageLatency[]): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const top = niceMax(Math.max(0, ...latency.map((l) => l.p95)));
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const group = plotW / Math.max(1, latency.length);
  const bar = Math.min(40, group / 3);
  const parts: string[] = [
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">` +
      `Latency per stage, ${esc(day)} (ms)</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (top * i) / 5;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end" font-size="12">${+v.toFixed(1)}</text>`,
    );
  }
  latency.forEach((l, i) => {
    const cx = M.left + group * i + group / 2;
    for (const [k, dx] of [
      ['p50', -bar],
      ['p95', 0],
    ] as const) {
      const v = l[k];
      parts.push(
        `<rect x="${cx + dx}" y="${y(v)}" width="${bar}" height="${M.top + plotH - y(v)}" fill="${COLORS[k]}"/>`,
        `<text x="${cx + dx + bar / 2}" y="${y(v) - 4}" text-anchor="middle" font-size="11">${Math.round(v)}</text>`,
      );
    }
    parts.push(
      `<text x="${cx}" y="${M.top + plotH + 20}" text-anchor="middle" font-size="13">${esc(l.stage)}</text>`,
      `<text x="${cx}" y="${M.top + plotH + 36}" text-anchor="middle" font-size="11" fill="#666">n=${l.turns}</text>`,
    );
  });
  if (latency.length === 0) {
    parts.push(
      `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="14">no turns</text>`,
    );
  }
  parts.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<rect x="${W - 170}" y="40" width="12" height="12" fill="${COLORS.p50}"/>`,
    `<text x="${W - 152}" y="50" font-size="12">p50</text>`,
    `<rect x="${W - 110}" y="40" width="12" height="12" fill="${COLORS.p95}"/>`,
    `<text x="${W - 92}" y="50" font-size="12">p95</text>`,
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
    `font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">${parts.join('')}</svg>`
  );
}

export function latencyChartPng(day: string, latency: StageLatency[]): Buffer {
  const svg = latencyChartSvg(day, latency);
  return new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
}
