// Entry of a browser data-parallel training worker (build/browser/train-worker.js): its shared
// memory arrives in the first message; see workerLoop in data-parallel.ts.
import { workerLoop } from "./data-parallel.js";
import { fromWorkerMessage, type WorkerMessage } from "./worker-setup.js";

/** The dedicated worker's global scope (the DOM typings describe a window's). */
const scope = self as unknown as { onmessage: ((e: MessageEvent<WorkerMessage>) => void) | null; postMessage(message: unknown): void };

scope.onmessage = (event) => {
  scope.onmessage = null;
  // A failure before "ready" (say, the module does not compile) must reach the spawner, not vanish.
  workerLoop(fromWorkerMessage(event.data), () => scope.postMessage("ready")).catch((err: unknown) => scope.postMessage({ error: String((err as Error)?.stack ?? err) }));
};
