// Browser bundle stand-in for data-parallel.ts, which needs Node's worker_threads: keeps
// node:worker_threads out of browser bundles. In a browser, train() runs on the calling thread.
export class DataParallel {
  static async start(): Promise<never> {
    throw new Error("train({ threads > 1 }) needs Node (worker_threads); in a browser, use threads: 1 inside a Web Worker");
  }
}
