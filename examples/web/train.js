// The training page: picks the data, runs train-worker.js, draws live loss/accuracy charts (inline
// SVG), shows images/s and ETA, pauses, stops and downloads the model (safetensors, as the CLI writes).
import { describeFiles, fileDrop } from "./file-drop.js";

const $ = (id) => document.querySelector(`#${id}`);
const number = (id) => Number($(id).value);
let files = [], worker, paused = false;
const points = []; // { x: images so far, loss, accuracy }

const mode = (threads) => `Mode: ${threads === 1 ? "one training worker" : `${threads} training workers sharing each batch`}. ` +
  `This page is ${crossOriginIsolated ? "" : "not "}cross-origin isolated (SharedArrayBuffer ${crossOriginIsolated ? "available" : "unavailable"}` +
  `${crossOriginIsolated ? "" : ": serve it with COOP/COEP headers for several workers"}). Any number of workers gives the same weights.`;
$("mode").textContent = mode(crossOriginIsolated ? Math.min(navigator.hardwareConcurrency ?? 1, 8) : 1);

fileDrop($("drop"), $("files"), (list) => {
  files = list;
  $("served").checked = files.length === 0;
  $("picked").textContent = describeFiles(files);
});

function setRunning(on) {
  $("start").disabled = on;
  $("pause").disabled = $("stop").disabled = !on;
  $("pause").textContent = "Pause";
  paused = false;
}

$("start").addEventListener("click", async () => {
  worker?.terminate();
  points.length = 0;
  $("epochs-log").replaceChildren();
  document.body.dataset.state = "running";
  const options = { type: "start", epochs: number("epochs"), batchSize: number("batch"), lr: number("lr"), seed: number("seed"), limit: number("limit"), validation: number("validation") };
  const picked = $("served").checked ? undefined : await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
  worker = new Worker("train-worker.js", { type: "module" });
  worker.onmessage = ({ data }) => handle[data.type](data);
  worker.onerror = (e) => handle.error({ message: e.message ?? "the worker failed to start" });
  worker.postMessage({ ...options, files: picked }, picked?.map((f) => f.bytes) ?? []);
  setRunning(true);
  $("save").disabled = false;
  $("stats").textContent = "Loading data…";
});
$("pause").addEventListener("click", () => {
  paused = !paused;
  worker.postMessage({ type: paused ? "pause" : "resume" });
  $("pause").textContent = paused ? "Resume" : "Pause";
});
$("stop").addEventListener("click", () => worker.postMessage({ type: "stop" }));
$("save").addEventListener("click", () => worker?.postMessage({ type: "save" }));

let epochSize = 0;
const handle = {
  info({ train, validation, test, threads }) {
    epochSize = train;
    $("mode").textContent = mode(threads);
    $("stats").textContent = `${train} training, ${validation} validation, ${test} test images.`;
  },
  progress(p) {
    const eta = p.remainingImages / p.imagesPerSecond;
    $("stats").textContent = `Epoch ${p.epoch}/${p.epochs}, ${p.seen}/${epochSize} images - loss ${p.loss.toFixed(4)} - accuracy ${(p.accuracy * 100).toFixed(2)}%` +
      ` - ${Math.round(p.imagesPerSecond).toLocaleString("en")} images/s - ETA ${eta.toFixed(1)} s${paused ? " (paused)" : ""}`;
    points.push({ x: (p.epoch - 1) * epochSize + p.seen, loss: p.loss, accuracy: p.accuracy });
    chart($("loss"), "loss");
    chart($("accuracy"), "accuracy");
  },
  epoch(e) {
    const li = document.createElement("li");
    li.textContent = `loss ${e.loss.toFixed(4)}, accuracy ${(e.accuracy * 100).toFixed(2)}%` +
      (e.valAccuracy === undefined ? "" : `, validation loss ${e.valLoss.toFixed(4)}, accuracy ${(e.valAccuracy * 100).toFixed(2)}%`) + (e.stopped ? " (stopped)" : "");
    li.dataset.loss = String(e.loss);
    $("epochs-log").append(li);
  },
  done({ stopped, metrics, seconds, imagesPerSecond }) {
    setRunning(false);
    $("stats").textContent = `${stopped ? "Stopped" : "Done"} after ${seconds.toFixed(1)} s, ${Math.round(imagesPerSecond).toLocaleString("en")} images/s` +
      (metrics.test_accuracy === undefined ? "." : `. Test accuracy ${(metrics.test_accuracy * 100).toFixed(2)}% (loss ${metrics.test_loss.toFixed(4)}).`);
    document.body.dataset.state = "done";
  },
  model({ bytes }) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    a.download = "lenet5.safetensors";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  },
  error({ message }) {
    setRunning(false);
    $("stats").textContent = `Error: ${message}`;
    document.body.dataset.state = "error";
    console.error(message);
  },
};

/** Redraws one series as a polyline scaled to the chart, with its range as labels. */
function chart(svg, key) {
  const w = svg.width.baseVal.value, h = svg.height.baseVal.value, pad = 24;
  const xs = points.map((p) => p.x), ys = points.map((p) => p[key]);
  const x0 = 0, x1 = Math.max(...xs, 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-9);
  const sx = (x) => pad + ((x - x0) / (x1 - x0)) * (w - 2 * pad), sy = (y) => h - pad - ((y - y0) / (y1 - y0)) * (h - 2 * pad);
  const ns = "http://www.w3.org/2000/svg", el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  svg.replaceChildren(
    el("polyline", { points: points.map((p) => `${sx(p.x).toFixed(1)},${sy(p[key]).toFixed(1)}`).join(" "), fill: "none", stroke: key === "loss" ? "#d46a2a" : "#4a7fd4", "stroke-width": 2 }),
    el("text", { x: 2, y: 14, "font-size": 11 }, y1.toFixed(3)),
    el("text", { x: 2, y: h - 4, "font-size": 11 }, `${y0.toFixed(3)}   (${x1.toLocaleString("en")} images)`),
  );
}
