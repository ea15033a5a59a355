// Never lose work: checkpoints and exact resume after SIGKILL or Ctrl-C, atomic model files on a
// full disk, the numerical guard. Runs the built CLI (build/cli.js) in child processes.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeNet5, PARAMETERS } from "../../src/model/lenet.js";
import { decodeCheckpoint, decodeModel, encodeModel } from "../../src/io/model-file.js";
import { writeFileAtomic } from "../../src/data/atomic-file.js";
import { subset } from "../../src/data/datasets.js";
import { NumericalError, train } from "../../src/train/train.js";
import { mnist, writeMnistDir } from "../helpers.js";

const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 180_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const weightsOf = (file: string) => decodeModel(readFileSync(file), file).weights;

function expectSameWeights(a: string, b: string): void {
  const [x, y] = [weightsOf(a), weightsOf(b)];
  for (const p of PARAMETERS) expect(Buffer.from(x[p.name].buffer).equals(Buffer.from(y[p.name].buffer)), `${p.name} differs`).toBe(true);
}

describe("checkpoints and resume", () => {
  let dir: string, data: string, reference: string;
  // 5,500 training images = 172 batches an epoch: ~1-2 s for 2 epochs, long enough to interrupt.
  const settings = ["--epochs", "2", "--validation", "500", "--seed", "5"];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lenet-resume-"));
    data = join(dir, "data");
    mkdirSync(data);
    writeMnistDir(data, 6000, 500);
    reference = join(dir, "reference.safetensors");
    const r = run("train", "--data", data, ...settings, "--threads", "1", "--out", reference, "--quiet");
    expect(r.code, r.stderr).toBe(0);
  });

  it("SIGKILL at a random moment of epoch 2, then --resume (on 2 threads): bit-identical to the uninterrupted run", async () => {
    const ckpt = join(dir, "killed"), out = join(dir, "killed.safetensors");
    const child = spawn(process.execPath, [CLI, "train", "--data", data, ...settings, "--threads", "1",
      "--checkpoint-dir", ckpt, "--checkpoint-every", "20", "--out", out, "--quiet"], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    // Into epoch 2, so that resuming must replay epoch 1's shuffle too; then a random moment.
    const file = join(ckpt, "checkpoint.safetensors");
    // Early in epoch 2 (batch <= 60 of 172), and at most 100 ms (~30 batches) later: still in epoch 2.
    await waitFor(() => {
      if (!existsSync(file)) return false;
      const { state } = decodeCheckpoint(readFileSync(file));
      return state.epoch === 2 && state.batch <= 60;
    }, "a checkpoint early in epoch 2");
    await sleep(Math.floor(Math.random() * 100));
    child.kill("SIGKILL");
    expect(await exited, "the run ended before it could be killed: make it longer").toBe("SIGKILL");
    expect(existsSync(out)).toBe(false);
    const { state } = decodeCheckpoint(readFileSync(file));
    expect(state.epoch).toBe(2); // killed mid-run: the last checkpoint is inside epoch 2
    expect(state.history).toHaveLength(1);

    // Whether or not the kill came mid-write, leave what a killed writer leaves: resuming removes it.
    writeFileSync(join(ckpt, `.checkpoint.safetensors.${child.pid}.0123456789ab.tmp`), "partial");
    const r = run("train", "--resume", ckpt, "--threads", "2", "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expectSameWeights(out, reference);
    expect(readdirSync(ckpt).filter((f) => f.endsWith(".tmp")), "temporary files left behind").toEqual([]);
  });

  it("Ctrl-C finishes the batch, saves a checkpoint next to --out, says how to resume; resuming is exact", async () => {
    const out = join(dir, "interrupted.safetensors");
    const child = spawn(process.execPath, [CLI, "train", "--data", data, ...settings, "--threads", "2", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitFor(() => stderr.includes("Epoch 1/2"), "training to start");
    child.kill("SIGINT");
    const code = await exited;
    expect(code, stderr).toBe(130);
    const ckpt = join(dir, "interrupted.checkpoint");
    expect(stderr).toContain(`Resume with: npx lenet-wasm train --resume ${ckpt}`);
    expect(existsSync(join(ckpt, "checkpoint.safetensors"))).toBe(true);
    expect(existsSync(out)).toBe(false);

    const r = run("train", "--resume", ckpt, "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expectSameWeights(out, reference);
  });

  it("refuses to resume with different settings, or from something that is not a checkpoint", () => {
    const ckpt = join(dir, "settings");
    expect(run("train", "--data", data, ...settings, "--checkpoint-dir", ckpt, "--out", join(dir, "s.safetensors"), "--quiet").code).toBe(0);
    const r = run("train", "--resume", ckpt, "--batch-size", "64");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch-size 64 differs from the resumed run's 32/);
    const missing = run("train", "--resume", join(dir, "nothing-here"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no checkpoint.safetensors there/);
    const notCkpt = join(dir, "model-not-checkpoint");
    mkdirSync(notCkpt);
    writeFileSync(join(notCkpt, "checkpoint.safetensors"), readFileSync(reference));
    const wrong = run("train", "--resume", notCkpt);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(join(notCkpt, "checkpoint.safetensors"));
  });
});

describe("atomic model files", () => {
  let mountPoint: string | undefined;
  afterAll(() => {
    if (mountPoint) execFileSync("umount", [mountPoint]);
  });

  it("removes the temporary files of a killed writer, never a live writer's or another file's", async () => {
    const folder = mkdtempSync(join(tmpdir(), "lenet-orphans-"));
    const dead = spawnSync(process.execPath, ["-e", ""]).pid; // has exited: its pid names no process
    const live = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const names = [`.model.safetensors.${dead}.0123456789ab.tmp`, `.model.safetensors.${live.pid}.0123456789ab.tmp`,
        `.other.safetensors.${dead}.0123456789ab.tmp`, ".model.safetensors.notes.tmp"];
      for (const name of names) writeFileSync(join(folder, name), "partial");
      await writeFileAtomic(join(folder, "model.safetensors"), new Uint8Array([1, 2, 3]));
      expect(readdirSync(folder).sort()).toEqual(["model.safetensors", ...names.slice(1)].sort());
    } finally {
      live.kill();
    }
  });

  it("a full disk while saving leaves the previous model intact and no temporary file", async () => {
    // A real full disk: a 400 KB tmpfs holds one model file (247 KB) but not a second copy.
    const point = mkdtempSync(join(tmpdir(), "lenet-full-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=400k", "tmpfs", point]);
    } catch (err) {
      throw new Error(`this test mounts a small tmpfs to fill a disk and needs root: ${(err as Error).message}`);
    }
    mountPoint = point;
    const file = join(point, "model.safetensors");
    const first = encodeModel((await LeNet5.create({ seed: 1 })).getWeights());
    await writeFileAtomic(file, first);
    const second = encodeModel((await LeNet5.create({ seed: 2 })).getWeights());
    await expect(writeFileAtomic(file, second)).rejects.toThrow(/ENOSPC/);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(first))).toBe(true);
    expect(readdirSync(point)).toEqual(["model.safetensors"]);

    // The CLI says so in one line and exits 1, and the old model is still there.
    const data = mkdtempSync(join(tmpdir(), "lenet-full-data-"));
    writeMnistDir(data, 600, 100);
    const r = run("train", "--data", data, "--epochs", "1", "--validation", "100", "--out", file, "--quiet");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lenet-wasm: ENOSPC: no space left on device/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(first))).toBe(true);
  });
});

describe("numerical guard", () => {
  it("stops at the first non-finite loss or gradient, names the tensors, and does not apply it", async () => {
    const model = await LeNet5.create({ seed: 3 });
    const w = model.getWeights();
    w["f6.bias"][0] = NaN;
    model.setWeights(w);
    const before = model.getWeights();
    const err = await train(model, subset(mnist().train, 0, 100), { epochs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NumericalError);
    expect((err as NumericalError).message).toMatch(/diverged at epoch 1, batch 1: the loss is NaN and the gradients of .*out.weight.* are not finite/);
    const after = model.getWeights();
    for (const p of PARAMETERS) expect(Buffer.from(after[p.name].buffer).equals(Buffer.from(before[p.name].buffer)), p.name).toBe(true);
  });
});
