// Plain SVG charts (no chart library): a matrix heat map, line charts and bar charts.
// Each scales with its container (viewBox) and carries a <title> for screen readers.
import { s } from '../dom';

export interface Series {
  name: string;
  colour: string;
  points: [number, number][];
  dashed?: boolean;
  width?: number;
}

export interface LineOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  xTick?: (x: number) => string;
  xTicks?: number[];
  yMin?: number;
  legend?: boolean;
  /** Where the legend goes: top right (default) or top left. */
  legendAt?: 'left' | 'right';
  /** Error bars: per series name, the half-width at each point. */
  errors?: Record<string, number[]>;
}

const M = { top: 16, right: 16, bottom: 44, left: 56 };

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const span = max - min;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((st) => span / st <= count) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? v.toLocaleString('en-GB', { maximumFractionDigits: 0 }) : String(Number(v.toPrecision(4))));

export function lineChart(series: Series[], o: LineOptions): SVGSVGElement {
  const W = o.width ?? 640;
  const H = o.height ?? 280;
  const xs = series.flatMap((se) => se.points.map((p) => p[0]));
  const ys = series.flatMap((se) => se.points.map((p, i) => p[1] + (o.errors?.[se.name]?.[i] ?? 0)));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMin = o.yMin ?? Math.min(0, ...ys);
  const yMax = Math.max(...ys, yMin + 1e-9);
  const x = (v: number) => M.left + ((v - xMin) / (xMax - xMin || 1)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((v - yMin) / (yMax - yMin || 1)) * (H - M.top - M.bottom);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' }, s('title', {}, o.title));
  for (const t of niceTicks(yMin, yMax)) {
    svg.append(
      s('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), class: 'grid' }),
      s('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(t)),
    );
  }
  let lastLabel = -Infinity;
  for (const t of o.xTicks ?? niceTicks(xMin, xMax, 6)) {
    svg.append(s('line', { x1: x(t), x2: x(t), y1: H - M.bottom, y2: H - M.bottom + 4, class: 'axis' }));
    if (x(t) - lastLabel < 28) continue; // labels too close to the previous one are left out
    lastLabel = x(t);
    svg.append(s('text', { x: x(t), y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, o.xTick ? o.xTick(t) : fmt(t)));
  }
  svg.append(
    s('line', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: 'axis' }),
    s('line', { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: 'axis' }),
    s('text', { x: (M.left + W - M.right) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' }, o.xLabel),
    s('text', { x: 12, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 12 ${(M.top + H - M.bottom) / 2})` }, o.yLabel),
  );
  for (const se of series) {
    const err = o.errors?.[se.name];
    if (err) {
      se.points.forEach(([px, py], i) => {
        const e = err[i] ?? 0;
        if (e > 0) svg.append(s('line', { x1: x(px), x2: x(px), y1: y(py - e), y2: y(py + e), stroke: se.colour, class: 'errorbar' }));
      });
    }
    const d = se.points.map(([px, py], i) => `${i ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join('');
    svg.append(s('path', {
      d, fill: 'none', stroke: se.colour, 'stroke-width': se.width ?? 2, 'stroke-dasharray': se.dashed ? '5 4' : undefined,
      'data-series': se.name,
    }));
    if (se.points.length <= 16) {
      for (const [px, py] of se.points) svg.append(s('circle', { cx: x(px), cy: y(py), r: 2.5, fill: se.colour }));
    }
  }
  if (o.legend !== false && series.length > 1) {
    const lx = o.legendAt === 'left' ? M.left + 12 : W - M.right - 130;
    series.forEach((se, i) => {
      const ly = M.top + 4 + i * 16;
      svg.append(
        s('line', { x1: lx, x2: lx + 20, y1: ly, y2: ly, stroke: se.colour, 'stroke-width': 3, 'stroke-dasharray': se.dashed ? '5 4' : undefined }),
        s('text', { x: lx + 26, y: ly + 4, class: 'tick' }, se.name),
      );
    });
  }
  return svg;
}

export function barChart(values: number[], labels: string[], o: { title: string; yLabel: string; colour?: string; width?: number; height?: number; highlight?: boolean[] }): SVGSVGElement {
  const W = o.width ?? 640;
  const H = o.height ?? 200;
  const yMax = Math.max(...values, 1e-9);
  const bw = (W - M.left - M.right) / values.length;
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' }, s('title', {}, o.title));
  for (const t of niceTicks(0, yMax, 4)) {
    svg.append(
      s('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), class: 'grid' }),
      s('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(t)),
    );
  }
  const every = Math.ceil(values.length / 16);
  values.forEach((v, i) => {
    const x0 = M.left + i * bw;
    svg.append(s('rect', {
      x: x0 + 1, y: y(v), width: Math.max(1, bw - 2), height: H - M.bottom - y(v),
      fill: o.highlight?.[i] === false ? '#c8ccd2' : (o.colour ?? '#3b6ea5'),
    }, s('title', {}, `${labels[i]}: ${fmt(v)}`)));
    if (i % every === 0) svg.append(s('text', { x: x0 + bw / 2, y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, labels[i] ?? ''));
  });
  svg.append(
    s('line', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: 'axis' }),
    s('text', { x: 12, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 12 ${(M.top + H - M.bottom) / 2})` }, o.yLabel),
  );
  return svg;
}

/** Rows × columns matrix as coloured cells (white → dark red), with row and column labels. */
export function matrixHeat(values: number[][], rowLabels: string[], colLabels: string[], o: { title: string; unit: string }): SVGSVGElement {
  const cw = 24;
  const ch = 24;
  const left = 44;
  const top = 8;
  const W = left + cw * colLabels.length + 8;
  const H = top + ch * rowLabels.length + 40;
  const max = Math.max(...values.flat(), 1e-9);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart heat', role: 'img' }, s('title', {}, o.title));
  values.forEach((row, r) => {
    svg.append(s('text', { x: left - 6, y: top + r * ch + ch / 2 + 4, 'text-anchor': 'end', class: 'tick' }, rowLabels[r] ?? ''));
    row.forEach((v, c) => {
      svg.append(s('rect', {
        x: left + c * cw, y: top + r * ch, width: cw - 1, height: ch - 1, fill: ramp(v / max),
        'data-row': r, 'data-col': c,
      }, s('title', {}, `${rowLabels[r]} ${colLabels[c]}: ${fmt(v)} ${o.unit}`)));
    });
  });
  colLabels.forEach((l, c) => {
    if (c % 3 === 0) svg.append(s('text', { x: left + c * cw + cw / 2, y: top + rowLabels.length * ch + 14, 'text-anchor': 'middle', class: 'tick' }, l));
  });
  // colour key
  const ky = top + rowLabels.length * ch + 24;
  for (let i = 0; i <= 10; i++) svg.append(s('rect', { x: left + i * 14, y: ky, width: 14, height: 8, fill: ramp(i / 10) }));
  svg.append(
    s('text', { x: left + 11 * 14 + 6, y: ky + 8, class: 'tick' }, `0 – ${fmt(max)} ${o.unit}`),
  );
  return svg;
}

/** White → orange → dark red, t in [0, 1]. */
export function ramp(t: number): string {
  const stops: [number, number, number][] = [[255, 255, 255], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
