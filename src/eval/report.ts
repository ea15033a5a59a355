// A training report as ONE self-contained HTML file: inline SVG charts, digits and filters as
// embedded PNGs, no scripts, no network. Runs in Node and browsers (it only builds a string).
import { encode as encodePng } from "fast-png";
import { C1, C3, IMAGE_SIDE, PIXELS } from "../model/geometry.js";
import { type LeNet5 } from "../model/lenet.js";
import { evaluateDetailed, type DetailedEvaluation, type EpochMetrics } from "./metrics.js";
import { CLASS_NAMES, type Dataset } from "../data/datasets.js";

export interface ReportInput {
  title: string;
  /** Name of each class (index = label). */
  classNames: readonly string[];
  history: EpochMetrics[];
  evaluation: DetailedEvaluation;
  /** Where evaluation's image indices point (the test set). */
  images: Dataset;
  /** c1.weight (6,1,5,5). */
  filters: Float32Array;
  /** One test image and what c1 and c3 make of it. */
  sample: { index: number; c1: Float32Array; c3: Float32Array };
  settings: Record<string, unknown>;
  environment: Record<string, unknown>;
  generated: string;
}

/** Evaluates `model` on `test` and gathers everything the report shows. */
export function reportInput(model: LeNet5, test: Dataset, extra: Pick<ReportInput, "history" | "settings" | "environment"> & { title?: string; classNames?: readonly string[] }): ReportInput {
  const evaluation = evaluateDetailed(model, test);
  const sampleIndex = 0;
  const layers = model.activations(test.images.subarray(sampleIndex * PIXELS, (sampleIndex + 1) * PIXELS));
  const maps = { c1: layers.find((l) => l.name === "c1")!.values, c3: layers.find((l) => l.name === "c3")!.values };
  return {
    title: extra.title ?? "LeNet-5 on MNIST",
    classNames: extra.classNames ?? CLASS_NAMES.mnist,
    history: extra.history,
    evaluation,
    images: test,
    filters: model.getWeights()["c1.weight"],
    sample: { index: sampleIndex, ...maps },
    settings: extra.settings,
    environment: extra.environment,
    generated: new Date().toISOString(),
  };
}

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** A grayscale or RGB PNG as a data: URL. */
function png(width: number, height: number, data: Uint8Array, channels: 1 | 3): string {
  return `data:image/png;base64,${base64(encodePng({ width, height, data, channels, depth: 8 }))}`;
}

/** An image scaled up with sharp pixels. */
const img = (src: string, size: number, label: string, cls = ""): string =>
  `<img class="px ${cls}" src="${src}" width="${size}" height="${size}" alt="${esc(label)}" title="${esc(label)}">`;

/** Values around 0 as blue (negative) / white / red (positive), scaled by the largest magnitude. */
function diverging(values: ArrayLike<number>): Uint8Array {
  let max = 1e-12;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  const rgb = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const t = values[i]! / max, fade = Math.round(255 * (1 - Math.abs(t)));
    rgb.set(t >= 0 ? [255, fade, fade] : [fade, fade, 255], 3 * i);
  }
  return rgb;
}

/** An SVG line chart, one polyline and a circle per point for each series. */
function lineChart(title: string, series: { name: string; values: (number | undefined)[]; color: string }[]): string {
  const W = 420, H = 240, L = 56, R = 12, T = 28, B = 40;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const n = Math.max(...series.map((s) => s.values.length));
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const x = (i: number) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
  const y = (v: number) => T + ((hi - v) * (H - T - B)) / (hi - lo);
  const ticks = [lo, (lo + hi) / 2, hi];
  const parts = [`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" class="t">${esc(title)}</text>`,
    ...ticks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(4)}</text>`),
    ...Array.from({ length: n }, (_, i) => `<text x="${x(i)}" y="${H - B + 16}" text-anchor="middle">${i + 1}</text>`),
    `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`];
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (v === undefined ? undefined : [x(i), y(v)] as const)).filter((p) => p !== undefined);
    parts.push(`<g data-series="${esc(s.name)}" stroke="${s.color}" fill="${s.color}">`,
      `<polyline fill="none" stroke-width="2" points="${pts.map((p) => p.join(",")).join(" ")}"/>`,
      ...pts.map((p, i) => `<circle cx="${p[0]}" cy="${p[1]}" r="3.5"><title>${esc(s.name)} epoch ${i + 1}: ${s.values[i]}</title></circle>`),
      `</g>`,
      `<text x="${L + 8 + 150 * k}" y="${T + 12}" fill="${s.color}">● ${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

function confusionSvg(e: DetailedEvaluation): string {
  const N = e.confusion.length, cell = N > 10 ? Math.max(12, Math.floor(340 / N)) : 34, L = 40, T = 40, size = L + N * cell + 8;
  const max = Math.max(...e.confusion.flat().filter((_, i) => i % (N + 1) !== 0), 1); // largest off-diagonal
  const parts = [`<svg class="confusion" viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-label="confusion matrix">`,
    `<text x="${L + (N * cell) / 2}" y="14" text-anchor="middle" class="t">predicted</text>`,
    `<text x="12" y="${T + (N * cell) / 2}" text-anchor="middle" class="t" transform="rotate(-90 12 ${T + (N * cell) / 2})">true</text>`];
  for (let c = 0; c < N; c++) {
    parts.push(`<text x="${L + c * cell + cell / 2}" y="${T - 8}" text-anchor="middle">${c}</text>`, `<text x="${L - 8}" y="${T + c * cell + cell / 2 + 4}" text-anchor="end">${c}</text>`);
  }
  e.confusion.forEach((row, t) => row.forEach((n, p) => {
    const diag = t === p;
    const fill = diag ? `rgb(${230 - Math.round(110 * e.perClass[t]!.recall)},${235},${230 - Math.round(110 * e.perClass[t]!.recall)})` : n === 0 ? "#fff" : `rgb(255,${Math.round(235 - 185 * Math.sqrt(n / max))},${Math.round(235 - 185 * Math.sqrt(n / max))})`;
    parts.push(`<g class="cell" data-true="${t}" data-pred="${p}"><rect x="${L + p * cell}" y="${T + t * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ddd"/>` +
      `<text x="${L + p * cell + cell / 2}" y="${T + t * cell + cell / 2 + 4}" text-anchor="middle">${n}</text><title>true ${t}, predicted ${p}: ${n}</title></g>`);
  }));
  parts.push("</svg>");
  return parts.join("");
}

/** Renders the report. */
export function renderReport(r: ReportInput): string {
  const e = r.evaluation;
  const h = r.history;
  const digit = (index: number) => png(IMAGE_SIDE, IMAGE_SIDE, r.images.images.subarray(index * PIXELS, (index + 1) * PIXELS), 1);
  const name = (c: number) => esc(r.classNames[c] ?? c);
  const worst = e.worst.map((m) => `<figure class="mistake">${img(digit(m.index), 56, `test image ${m.index}`)}<figcaption>true <b>${name(m.label)}</b> → ${name(m.predicted)}<br>${pct(m.confidence)}</figcaption></figure>`).join("");
  const K = C1.K, taps = K * K;
  const filters = Array.from({ length: C1.OC }, (_, f) => img(png(K, K, diverging(r.filters.subarray(taps * f, taps * (f + 1))), 3), 70, `c1 filter ${f}`, "filter")).join("");
  const maps = (data: Float32Array, count: number, side: number, name: string) => Array.from({ length: count }, (_, m) =>
    img(png(side, side, diverging(data.subarray(m * side * side, (m + 1) * side * side)), 3), side === 28 ? 84 : 60, `${name} map ${m}`, `map ${name}`)).join("");
  const rows = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === "object" ? JSON.stringify(v) : v)}</td></tr>`).join("");
  const perClass = e.perClass.map((m, c) => `<tr><th>${c}${r.classNames[c] === String(c) ? "" : ` ${name(c)}`}</th><td>${m.support}</td><td>${pct(m.recall)}</td><td>${pct(m.precision)}</td></tr>`).join("");
  const epochRows = h.map((m) => `<tr><td>${m.epoch}</td><td>${m.loss.toFixed(4)}</td><td>${pct(m.accuracy)}</td><td>${m.valLoss?.toFixed(4) ?? "-"}</td><td>${m.valAccuracy === undefined ? "-" : pct(m.valAccuracy)}</td><td>${m.seconds.toFixed(1)} s</td><td>${Math.round(m.imagesPerSecond)}</td></tr>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(r.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222}
h1{margin-bottom:0}.sub{color:#666;margin-top:4px}section{margin:28px 0}h2{border-bottom:1px solid #ddd;padding-bottom:4px}
.big{font-size:28px;font-weight:600}.row{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}th{text-align:left;font-weight:600}
svg text{font-size:12px;fill:#333}svg .t{font-weight:600}svg .grid{stroke:#eee}
.px{image-rendering:pixelated;border:1px solid #ccc;background:#000}.filter,.map{background:#fff}
.mistake{display:inline-block;margin:4px;text-align:center;font-size:12px}.mistake figcaption{margin-top:2px}
.maps{display:flex;flex-wrap:wrap;gap:6px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p class="sub">lenet-wasm report, ${esc(r.generated)}</p>
<section id="summary"><div class="row">
<div><div class="big">${pct(e.accuracy)}</div>test accuracy on ${e.count} images (loss ${e.loss.toFixed(4)})</div>
<table><tbody>${rows(r.settings)}</tbody></table>
<table><tbody>${rows(r.environment)}</tbody></table>
</div></section>
<section id="curves"><h2>Training</h2>
${h.length === 0 ? "<p>No per-epoch history in this model file.</p>" : `<div class="row">
${lineChart("loss", [{ name: "train loss", values: h.map((m) => m.loss), color: "#1f77b4" }, { name: "validation loss", values: h.map((m) => m.valLoss), color: "#ff7f0e" }])}
${lineChart("accuracy", [{ name: "train accuracy", values: h.map((m) => m.accuracy), color: "#1f77b4" }, { name: "validation accuracy", values: h.map((m) => m.valAccuracy), color: "#ff7f0e" }])}
</div>
<table><thead><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val loss</th><th>val accuracy</th><th>time</th><th>images/s</th></tr></thead><tbody>${epochRows}</tbody></table>`}
</section>
<section id="confusion"><h2>Test set: confusion matrix</h2><div class="row">${confusionSvg(e)}
<table><thead><tr><th>class</th><th>images</th><th>recall</th><th>precision</th></tr></thead><tbody>${perClass}</tbody></table></div></section>
<section id="mistakes"><h2>The ${e.worst.length} most confident mistakes</h2><div>${worst}</div></section>
<section id="filters"><h2>What c1 learned: its ${C1.OC} filters (${K}x${K}; red positive, blue negative)</h2><div class="maps">${filters}</div></section>
<section id="features"><h2>Feature maps for test image ${r.sample.index} (${name(r.images.labels[r.sample.index]!)})</h2>
<div class="row">${img(digit(r.sample.index), 84, "sample digit")}<div><p>c1 (${C1.OC} maps, ${C1.OH}x${C1.OW}, after the activation)</p><div class="maps">${maps(r.sample.c1, C1.OC, C1.OH, "c1")}</div>
<p>c3 (${C3.OC} maps, ${C3.OH}x${C3.OW}, after the activation)</p><div class="maps">${maps(r.sample.c3, C3.OC, C3.OH, "c3")}</div></div></div></section>
</body></html>
`;
}
