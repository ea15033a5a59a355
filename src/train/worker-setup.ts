// What a data-parallel training worker is handed (all of it in shared memory), and what its spawner
// returns: shared by data-parallel.ts and the two spawners (worker-spawn.ts, worker-spawn.browser.ts).
import type { ArchitectureName } from "../model/networks.js";
import type { Distortion } from "./augment.js";

/** Everything a worker needs, all in shared memory. */
export interface WorkerSetup {
  index: number; // participant number, 1..threads-1
  threads: number;
  arch: ArchitectureName;
  classes: number;
  fastMath: boolean;
  control: Int32Array; // data-parallel.ts's CTL slots, then one wake word per worker
  order: Uint32Array;
  params: Float32Array;
  slots: Float32Array; // one shard gradient (model.shardGradient.length floats, exportShardGradient) per shard of a batch
  stats: Float64Array; // per shard: summed loss, correct predictions
  images: Uint8Array;
  labels: Uint8Array;
  error: Uint8Array; // UTF-8 message of a worker's failure
  distortion: Distortion | null; // with the seed and CTL.epoch, how training images are distorted
  seed: number;
}

/** A started worker: ready once its model is built. */
export interface TrainingWorker {
  ready: Promise<void>;
  terminate(): Promise<unknown>;
}


/** A typed array as the SharedArrayBuffer it views and where: what crosses to a worker. */
interface SharedView {
  type: "Int32Array" | "Uint32Array" | "Float32Array" | "Float64Array" | "Uint8Array";
  buffer: SharedArrayBuffer;
  byteOffset: number;
  length: number;
}

/** The setup as sent to a worker: every typed array replaced by its buffer and place. */
export type WorkerMessage = { [K in keyof WorkerSetup]: WorkerSetup[K] extends ArrayBufferView ? SharedView : WorkerSetup[K] };

const VIEWS = { Int32Array, Uint32Array, Float32Array, Float64Array, Uint8Array } as const;

/**
 * The setup to send to a worker. Plain SharedArrayBuffers, not views: some runtimes copy a view
 * over shared memory element by element when they send it (Deno 2's worker_threads took 14 s for
 * the 43 MB of MNIST's images), while every one shares a SharedArrayBuffer as it is.
 */
export function toWorkerMessage(setup: WorkerSetup): WorkerMessage {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(setup)) {
    out[key] = ArrayBuffer.isView(value)
      ? { type: value.constructor.name, buffer: value.buffer, byteOffset: value.byteOffset, length: (value as Uint8Array).length }
      : value;
  }
  return out as WorkerMessage;
}

/** The setup a worker received, its typed arrays rebuilt over the same shared memory. */
export function fromWorkerMessage(message: WorkerMessage): WorkerSetup {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    const v = value as SharedView | unknown;
    out[key] = v !== null && typeof v === "object" && "buffer" in v && "type" in v
      ? new VIEWS[(v as SharedView).type]((v as SharedView).buffer as unknown as ArrayBuffer, (v as SharedView).byteOffset, (v as SharedView).length) // (the union of constructors types its buffer as ArrayBuffer)
      : value;
  }
  return out as unknown as WorkerSetup;
}
