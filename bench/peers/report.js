// Peers for `npm run bench` (bench/run.js): runs each installed peer benchmark as a child
// process, one after the other (never alongside lenet-wasm's own measurements), and compares.
// The peers are installed apart from lenet-wasm's dependencies by `npm run bench:peers`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const PEERS = [
  { name: "tfjs-wasm", script: here("./tfjs.js"), args: [], installed: here("./node_modules/@tensorflow/tfjs-backend-wasm") },
  { name: "onnxruntime-web", script: here("./ort.js"), args: ["--backend", "web"], installed: here("./node_modules/onnxruntime-web") },
  { name: "onnxruntime-node", script: here("./ort.js"), args: ["--backend", "node"], installed: here("./node_modules/onnxruntime-node") },
  { name: "jax-js", script: here("./jax.js"), args: [], installed: here("./node_modules/@jax-js/jax") },
];
const INSTALL_HINT = "peers (TensorFlow.js wasm backend, onnxruntime-web, onnxruntime-node, jax-js) are not all installed: `npm run bench:peers` installs them into bench/peers/";

/**
 * Runs the installed peers with the same time budget per measurement and returns the `peers`
 * section of the bench results. `ours()` measures lenet-wasm (bench/run.js): it runs just before
 * and just after each peer, and the peer's ratios are to the geometric mean of the two, so a
 * machine whose clock drifts moves both sides of a ratio alike. Ratios are lenet-wasm / peer for
 * throughputs and peer ms / lenet-wasm ms for latency, so > 1 always means lenet-wasm is faster.
 */
export function runPeers(seconds, ours) {
  const peers = { installed: PEERS.every((p) => existsSync(p.installed)) };
  if (!peers.installed) peers.note = INSTALL_HINT;
  for (const p of PEERS) {
    if (!existsSync(p.installed)) continue;
    const before = ours();
    const child = spawnSync(process.execPath, [p.script, ...p.args, "--seconds", String(seconds)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });
    const line = (child.stdout ?? "").trim().split("\n").pop();
    let r;
    try {
      if (child.status !== 0) throw new Error(`exit ${child.status ?? child.signal}`);
      r = JSON.parse(line);
    } catch (e) {
      const stderr = (child.stderr ?? "").trim().split("\n").slice(-5).join(" | ");
      peers[p.name] = { error: `${p.script} failed: ${child.error?.message ?? e.message}${stderr ? `: ${stderr}` : ""}` };
      continue;
    }
    const after = ours();
    const us = Object.fromEntries(Object.keys(before).map((key) => [key, Math.sqrt(before[key] * after[key])]));
    r.lenet_wasm = us;
    r.ratios = {
      train_images_per_second: r.train_images_per_second == null ? null : us.train_images_per_second / r.train_images_per_second,
      infer_batch1_latency: r.infer_batch1_ms / us.infer_batch1_ms,
      infer_batch1000_images_per_second: us.infer_batch1000_images_per_second / r.infer_batch1000_images_per_second,
      int8_infer_batch1000_images_per_second: us.int8_infer_batch1000_images_per_second / r.infer_batch1000_images_per_second,
    };
    peers[p.name] = r;
  }
  return peers;
}

/** The text lines for the `peers` section (appended after bench/run.js's own lines). */
export function peerLines(peers) {
  if (!peers.installed && peers.note) return [peers.note];
  const lines = [];
  const x = (ratio) => (ratio == null ? "" : `   lenet-wasm ${ratio.toFixed(2)}x`);
  for (const p of PEERS) {
    const r = peers[p.name];
    if (r == null) continue;
    if (r.error) { lines.push(`peer ${p.name}: ${r.error}`); continue; }
    lines.push(`peer ${r.peer} ${r.version} | simd ${r.simd} | threads ${r.threads}${r.wasm_binary ? ` | ${r.wasm_binary}` : ""} (ratio > 1: lenet-wasm faster)`);
    lines.push(r.train_images_per_second == null
      ? `  training, batch 32:        n/a`
      : `  training, batch 32:        ${Math.round(r.train_images_per_second)} images/s (${r.train_step_ms.toFixed(2)} ms/step)${x(r.ratios.train_images_per_second)}`);
    lines.push(`  inference, batch 1:        ${r.infer_batch1_ms.toFixed(3)} ms/image${x(r.ratios.infer_batch1_latency)}`);
    lines.push(`  inference, batch 1000:     ${Math.round(r.infer_batch1000_images_per_second)} images/s${x(r.ratios.infer_batch1000_images_per_second)} (int8 ${r.ratios.int8_infer_batch1000_images_per_second.toFixed(2)}x)`);
    lines.push(`  training note: ${r.train_note}`);
  }
  return lines;
}
