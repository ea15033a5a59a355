// Entry of a Node data-parallel training worker (worker_threads): see workerLoop in data-parallel.ts.
import { parentPort, workerData } from "node:worker_threads";
import { workerLoop } from "./data-parallel.js";
import { fromWorkerMessage, type WorkerMessage } from "./worker-setup.js";

await workerLoop(fromWorkerMessage(workerData as WorkerMessage), () => parentPort!.postMessage("ready"));
