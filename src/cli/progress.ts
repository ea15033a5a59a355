// Keras-style progress on stderr while training: one line per epoch, redrawn in place on a terminal.
import type { BatchProgress } from "../train/train.js";
import type { EpochMetrics } from "../eval/metrics.js";

/** Keras-style progress: one line per epoch, redrawn in place on a terminal. */
export class Progress {
  private lastDraw = 0;
  constructor(private readonly out: NodeJS.WriteStream, private readonly enabled: boolean) {}

  private get live(): boolean {
    return this.enabled && this.out.isTTY === true;
  }

  epochStart(epoch: number, epochs: number): void {
    if (this.enabled) this.out.write(`Epoch ${epoch}/${epochs}\n`);
  }

  batch(p: BatchProgress): void {
    if (!this.live) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && p.batch < p.batches) return; // redraw at most 10 times a second
    this.lastDraw = now;
    const rate = p.images / Math.max(p.seconds, 1e-9);
    const eta = ((p.batches - p.batch) / p.batch) * p.seconds;
    this.out.write(`\r${bar(p.batch, p.batches)} - ETA: ${formatSeconds(eta)} - loss: ${p.loss.toFixed(4)} - accuracy: ${p.accuracy.toFixed(4)} - ${Math.round(rate).toLocaleString("en-US")} img/s\x1b[K`);
  }

  epochEnd(m: EpochMetrics, batches: number): void {
    if (!this.enabled) return;
    const val = m.valLoss === undefined ? "" : ` - val_loss: ${m.valLoss.toFixed(4)} - val_accuracy: ${m.valAccuracy!.toFixed(4)}`;
    const line = `${bar(batches, batches)} - ${formatSeconds(m.seconds)} - loss: ${m.loss.toFixed(4)} - accuracy: ${m.accuracy.toFixed(4)} - ${Math.round(m.imagesPerSecond).toLocaleString("en-US")} img/s${val}`;
    this.out.write(this.live ? `\r${line}\x1b[K\n` : `${line}\n`);
  }
}

function bar(done: number, total: number, width = 30): string {
  const filled = Math.floor((done / total) * width); // < width until the last batch
  const arrow = filled < width ? ">" : "";
  const count = String(done).padStart(String(total).length);
  return `${count}/${total} [${"=".repeat(filled)}${arrow}${".".repeat(width - filled - arrow.length)}]`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
}

/** A download's progress on stderr: redrawn in place on a terminal (bytes and rate), a line per file elsewhere. */
export function downloadProgress(out: NodeJS.WriteStream, enabled: boolean): (p: { file: string; bytes: number; total: number | undefined; mirror: string }) => void {
  let file = "", started = 0, lastDraw = 0;
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  return ({ file: name, bytes, total, mirror }) => {
    if (!enabled) return;
    const now = performance.now();
    if (name !== file) {
      file = name;
      started = now;
      if (out.isTTY !== true) out.write(`Downloading ${name} from ${mirror}${total === undefined ? "" : ` (${mb(total)})`}\n`);
    }
    const finished = total !== undefined && bytes >= total;
    if (out.isTTY !== true || (now - lastDraw < 100 && !finished)) return;
    lastDraw = now;
    const rate = bytes / Math.max((now - started) / 1000, 1e-3);
    out.write(`\rDownloading ${name}: ${mb(bytes)}${total === undefined ? "" : ` of ${mb(total)}`}, ${mb(rate)}/s\x1b[K${finished ? "\n" : ""}`);
  };
}

/** Progress of counted work (pictures read or written): a bar redrawn in place on a terminal, one line at the end elsewhere. */
export function countProgress(out: NodeJS.WriteStream, enabled: boolean, what: string): (done: number, total: number) => void {
  let lastDraw = 0;
  return (done, total) => {
    if (!enabled) return;
    const now = performance.now(), finished = done >= total;
    if (out.isTTY !== true) {
      if (finished) out.write(`${what}: ${total.toLocaleString("en-US")} done\n`);
      return;
    }
    if (now - lastDraw < 100 && !finished) return;
    lastDraw = now;
    out.write(`\r${what} ${bar(done, total)}\x1b[K${finished ? "\n" : ""}`);
  };
}
