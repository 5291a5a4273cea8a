/**
 * A small line plot as standalone SVG (no dependencies): one line per series, linear x, linear or
 * log10 y, axis ticks, a legend, optional horizontal reference lines (a target, y = 1).
 */

export interface Series {
  name: string;
  points: [number, number][];
  /** CSS colour (default: from a fixed palette) */
  color?: string;
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  logY?: boolean;
  /** x tick positions (default: the distinct x values of the data) */
  xTicks?: number[];
  xTickLabel?: (x: number) => string;
  /** horizontal reference lines */
  hLines?: { y: number; label: string }[];
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** "Nice" tick values covering [lo, hi] (1, 2, 5 × 10^k steps), about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function linePlot(series: Series[], o: PlotOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 400;
  const m = { left: 64, right: 170, top: 40, bottom: 52 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = series.flatMap((s) => s.points);
  const ys = [...all.map((p) => p[1]), ...(o.hLines ?? []).map((h) => h.y)].filter((y) => Number.isFinite(y) && (!o.logY || y > 0));
  const xs = all.map((p) => p[0]);
  // 5% padding each side so end points and their markers are not on the frame
  const x0 = Math.min(...xs, ...(o.xTicks ?? []));
  const x1 = Math.max(...xs, ...(o.xTicks ?? []));
  const xMin = x0 - 0.05 * (x1 - x0);
  const xMax = x1 + 0.05 * (x1 - x0);
  const ty = (y: number) => (o.logY ? Math.log10(y) : y);
  let yLo = Math.min(...ys.map(ty));
  let yHi = Math.max(...ys.map(ty));
  if (o.logY) {
    yLo = Math.floor(yLo);
    yHi = Math.ceil(yHi);
  } else {
    const t = niceTicks(Math.min(0, yLo), yHi);
    yLo = Math.min(0, yLo);
    yHi = Math.max(yHi, t[t.length - 1]);
  }
  if (yHi === yLo) yHi = yLo + 1;
  const X = (x: number) => m.left + (xMax === xMin ? pw / 2 : ((x - xMin) / (xMax - xMin)) * pw);
  const Y = (y: number) => m.top + ph - ((ty(y) - yLo) / (yHi - yLo)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  // y grid and ticks
  const yTicks = o.logY ? Array.from({ length: yHi - yLo + 1 }, (_, i) => 10 ** (yLo + i)) : niceTicks(yLo, yHi);
  for (const t of yTicks) {
    const y = Y(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(fmtTick(t))}</text>`);
  }
  const xTicks = o.xTicks ?? [...new Set(xs)].sort((a, b) => a - b);
  for (const t of xTicks) {
    const x = X(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${esc(o.xTickLabel ? o.xTickLabel(t) : fmtTick(t))}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  for (const h of o.hLines ?? []) {
    if (o.logY && h.y <= 0) continue;
    const y = Y(h.y).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#888" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${m.left + pw - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#555">${esc(h.label)}</text>`);
  }
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter((p) => Number.isFinite(p[1]) && (!o.logY || p[1] > 0)).sort((a, b) => a[0] - b[0]);
    if (pts.length > 0) {
      const d = pts.map((p, k) => `${k === 0 ? "M" : "L"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ");
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`);
      for (const p of pts) parts.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${color}"/>`);
    }
    const ly = m.top + 10 + i * 20;
    const lx = m.left + pw + 14;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function fmtTick(t: number): string {
  if (t === 0) return "0";
  const a = Math.abs(t);
  if (a >= 1e4 || a < 1e-2) return t.toExponential(0);
  return String(Number(t.toPrecision(3)));
}
