// Entry of a Node data-parallel training worker (worker_threads): see workerLoop in data-parallel.ts.
import { parentPort, workerData } from "node:worker_threads";
import { workerLoop, type WorkerSetup } from "./data-parallel.js";

await workerLoop(workerData as WorkerSetup, () => parentPort!.postMessage("ready"));
