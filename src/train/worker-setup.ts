// What a data-parallel training worker is handed (all of it in shared memory), and what its spawner
// returns: shared by data-parallel.ts and the two spawners (worker-spawn.ts, worker-spawn.browser.ts).
import type { ArchitectureName } from "../model/networks.js";
import type { Distortion } from "./augment.js";

/** Everything a worker needs, all in shared memory. */
export interface WorkerSetup {
  index: number; // participant number, 1..threads-1
  threads: number;
  capacity: number;
  arch: ArchitectureName;
  classes: number;
  fastMath: boolean;
  control: Int32Array;
  order: Uint32Array;
  params: Float32Array;
  slots: Float32Array; // one parameter block (model.parameterBlockLength floats) per shard of a batch
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

