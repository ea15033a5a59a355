// The `lenet-wasm` command as users run it: the built build/cli.js in a child process.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parseIdx, writeIdx } from "../../src/data/idx.js";
import { decodeCheckpoint, decodeModel, encodeCheckpoint } from "../../src/io/model-file.js";
import { writeMnistDir } from "../helpers.js";

const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small MNIST-shaped folder: 1,500 train and 500 test images, the test files gzipped. */
const writeSmallMnist = (dir: string) => writeMnistDir(dir, 1500, 500);

describe("lenet-wasm CLI", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lenet-cli-"));
    writeSmallMnist(dir);
  });

  it("--help shows the commands and exits 0", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/lenet-wasm train/);
    expect(r.stdout).toMatch(/--batch-size N/);
  });

  it.each([
    [[], /Usage:/],
    [["fly"], /unknown command "fly"/],
    [["train", "--epochs", "0"], /--epochs must be an integer in 1..100000, got 0/],
    [["train", "--epochs", "2.5"], /--epochs must be an integer/],
    [["train", "--lr=-1"], /--lr must be a number in \(0, 10\), got -1/],
    [["train", "--lr", "abc"], /--lr must be a number/],
    [["train", "--nope"], /unknown option --nope/],
    [["train", "--model", "x"], /--model is not an option of train/],
    [["evaluate"], /this command needs --model FILE/],
    [["report", "--epochs", "2"], /--epochs is not an option of report/],
    [["train", "extra"], /unexpected argument "extra"/],
    [["train", "--arch", "lenet7"], /--arch must be one of lenet5, lenet5-1998, lenet5-1998-softmax, got "lenet7"/],
    [["evaluate", "--arch", "lenet5"], /--arch is not an option of evaluate/],
  ])("usage error %j -> exit 2", (args, message) => {
    const r = run(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(message);
  });

  it("missing or broken data: exit 1, the file and what to do", () => {
    const missing = run("train", "--data", join(dir, "nowhere"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist\. A data folder holds the four files \(train-images-idx3-ubyte, .*\), or your own pictures in DIR\/train\/<class>\/\*\.png/);
    const broken = mkdtempSync(join(tmpdir(), "lenet-bad-"));
    writeSmallMnist(broken);
    const file = join(broken, "train-images-idx3-ubyte");
    writeFileSync(file, readFileSync(file).subarray(0, 5000));
    const r = run("train", "--data", broken, "--out", join(broken, "m.safetensors"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/truncated/);
    expect(r.stderr).not.toMatch(/ at .*\.js:\d+/); // no stack trace without --verbose
    expect(existsSync(join(broken, "m.safetensors"))).toBe(false);
  });

  it("the test set is read after training: what its files show is checked first; what only its pixels show costs no training", () => {
    const broken = mkdtempSync(join(tmpdir(), "lenet-badtest-"));
    writeSmallMnist(broken);
    const labels = join(broken, "t10k-labels-idx1-ubyte.gz"), images = join(broken, "t10k-images-idx3-ubyte.gz");
    const labelBytes = readFileSync(labels), imageBytes = readFileSync(images);
    const out = join(broken, "m.safetensors"), history = join(broken, "h.json");
    const args = ["train", "--data", broken, "--out", out, "--history", history, "--epochs", "1", "--validation", "300"];
    const failsFirst = (file: string, message: RegExp) => {
      const r = run(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/Epoch 1/); // before any training
      expect(existsSync(out)).toBe(false);
    };
    rmSync(labels);
    failsFirst(join(broken, "t10k-labels-idx1-ubyte"), /not found/);
    writeFileSync(labels, labelBytes);
    writeFileSync(images, imageBytes.subarray(0, 100)); // a truncated gzip stream
    failsFirst(images, /gzip/);
    // Plain 32x32 images, one with ink in its border: the header is fine, only the pixels tell.
    rmSync(images);
    const { dims, data } = parseIdx(new Uint8Array(imageBytes));
    const field = new Uint8Array(dims[0]! * 1024);
    for (let n = 0; n < dims[0]!; n++) for (let y = 0; y < 28; y++) field.set((data as Uint8Array).subarray(n * 784 + y * 28, n * 784 + y * 28 + 28), n * 1024 + (y + 2) * 32 + 2);
    field[7 * 1024] = 255;
    const plain = join(broken, "t10k-images-idx3-ubyte");
    writeFileSync(plain, writeIdx({ dtype: "u8", dims: [dims[0]!, 32, 32], data: field }));
    const r = run(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Epoch 1/);
    expect(r.stderr).toContain(plain);
    expect(r.stderr).toMatch(/without test metrics/);
    const saved = decodeModel(new Uint8Array(readFileSync(out)));
    expect(saved.info.metrics?.test_accuracy).toBe(null);
    expect(saved.info.metrics?.validation_accuracy).toBeGreaterThan(0.5);
    expect(JSON.parse(readFileSync(history, "utf8"))).toHaveLength(1);
  });

  it("an unwritable --out, --report or a folder as --out fails before training, writing nothing", () => {
    const r = run("train", "--data", dir, "--out", join(dir, "no", "such", "m.safetensors"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write .*m\.safetensors: folder .* does not exist or is not writable\. Choose another --out/);
    const folder = run("train", "--data", dir, "--out", dir);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toMatch(/it is a folder\. Give --out a file name/);
    expect(run("train", "--data", dir, "--report", join(dir, "nope", "r.html")).stderr).toMatch(/Choose another --report/);
    expect(run("train", "--dataset", "constructor").code).toBe(2); // not a property of the class-name table
  });

  it("trains, saves a loadable model, reports JSON; evaluate agrees", () => {
    const out = join(dir, "model.safetensors");
    const r = run("train", "--data", dir, "--epochs", "2", "--validation", "300", "--seed", "3", "--out", out, "--json");
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const result = JSON.parse(lines[lines.length - 1]!);
    expect(result).toMatchObject({ command: "train", epochs: 2, model: out });
    for (const key of ["test_accuracy", "test_loss", "seconds", "train_images_per_second"]) expect(typeof result[key], key).toBe("number");
    expect(result.test_accuracy).toBeGreaterThan(0.75); // 1,200 training images, 2 epochs; chance is 0.10
    expect(result.history).toHaveLength(2);
    expect(r.stderr).toMatch(/Epoch 2\/2/);
    expect(r.stderr).toMatch(/val_accuracy: 0\.\d{4}/);

    const { info } = decodeModel(readFileSync(out), out);
    expect(info.training).toMatchObject({ epochs: 2, seed: 3, batch_size: 32, validation: 300 });
    expect(info.metrics).toMatchObject({ test_accuracy: result.test_accuracy });
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]); // atomic write left no temp file

    const e = run("evaluate", "--model", out, "--data", dir, "--json");
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout.trim()).test_accuracy).toBe(result.test_accuracy);
  });

  it("--arch lenet5-1998 trains the paper's network; its file says so, and evaluate, predict and export follow it", () => {
    const out = join(dir, "paper.safetensors");
    const checkpoints = join(dir, "paper-ckpt");
    const r = run("train", "--arch", "lenet5-1998", "--data", dir, "--epochs", "2", "--validation", "300", "--out", out, "--json", "--checkpoint-dir", checkpoints);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/LeNet-5 as in LeCun et al\. 1998, 60,000 parameters/);
    const result = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(result.settings.arch).toBe("lenet5-1998");
    const { info } = decodeModel(new Uint8Array(readFileSync(out)));
    expect(info.architecture).toBe("lenet5-1998");
    const e = run("evaluate", "--model", out, "--data", dir, "--json");
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).test_accuracy).toBeCloseTo(result.test_accuracy, 10);
    const p = run("predict", "--model", out, "--idx", join(dir, "t10k-images-idx3-ubyte.gz"), "--index", "0", "--json");
    expect(p.code, p.stderr).toBe(0);
    const int8 = run("evaluate", "--model", out, "--data", dir, "--int8");
    expect(int8.code).toBe(1);
    expect(int8.stderr).toMatch(/int8 runs the lenet5 network only; .*paper\.safetensors holds a lenet5-1998 model. Leave out --int8/);
    const onnx = join(dir, "paper.onnx");
    expect(run("export", out, "-o", onnx, "--quiet").code).toBe(0);
    expect(existsSync(onnx)).toBe(true);
    // A resumed run keeps its network: another --arch is a usage error, none continues it.
    expect(run("train", "--resume", checkpoints, "--recipe", "paper").stderr).toMatch(/--recipe with --resume: a resumed run keeps its own settings/);
    const other = run("train", "--resume", checkpoints, "--arch", "lenet5");
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--arch lenet5 differs from the resumed run's lenet5-1998/);
    const more = run("train", "--resume", checkpoints, "--epochs", "3", "--json", "--quiet");
    expect(more.code, more.stderr).toBe(0);
    expect(JSON.parse(more.stdout.trim().split("\n").pop()!).settings.arch).toBe("lenet5-1998");
  });

  it("reads 32x32 images with a blank border (the 1998 input field) as their 28x28 digits: train --data and predict --idx", () => {
    const padDir = mkdtempSync(join(tmpdir(), "lenet-field-"));
    writeSmallMnist(padDir);
    for (const [name, gz] of [["train-images-idx3-ubyte", false], ["t10k-images-idx3-ubyte", true]] as const) {
      const file = join(padDir, name + (gz ? ".gz" : ""));
      const { dims, data } = parseIdx(new Uint8Array(readFileSync(file)));
      const count = dims[0]!, out = new Uint8Array(count * 1024);
      for (let n = 0; n < count; n++) for (let y = 0; y < 28; y++) out.set((data as Uint8Array).subarray(n * 784 + y * 28, n * 784 + y * 28 + 28), n * 1024 + (y + 2) * 32 + 2);
      writeFileSync(file, writeIdx({ dtype: "u8", dims: [count, 32, 32], data: out }, { gzip: gz }));
    }
    const args = ["--epochs", "1", "--validation", "300", "--quiet", "--json"];
    const padded = run("train", "--data", padDir, "--out", join(padDir, "m.safetensors"), ...args);
    const plain = run("train", "--data", dir, "--out", join(padDir, "plain.safetensors"), ...args);
    expect(padded.code, padded.stderr).toBe(0);
    const last = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(last(padded).test_accuracy).toBe(last(plain).test_accuracy); // the same digits, the same model
    const p32 = run("predict", "--model", join(padDir, "m.safetensors"), "--idx", join(padDir, "t10k-images-idx3-ubyte.gz"), "--index", "4", "--json");
    const p28 = run("predict", "--model", join(padDir, "m.safetensors"), "--idx", join(dir, "t10k-images-idx3-ubyte.gz"), "--index", "4", "--json");
    expect(p32.code, p32.stderr).toBe(0);
    expect(JSON.parse(p32.stdout).predictions[0].probabilities).toEqual(JSON.parse(p28.stdout).predictions[0].probabilities);
  });

  it("resumes a checkpoint of an earlier version (settings without arch, weight_decay, classes)", () => {
    const ckpt = join(dir, "old-ckpt");
    expect(run("train", "--data", dir, "--epochs", "1", "--validation", "300", "--out", join(dir, "old.safetensors"), "--checkpoint-dir", ckpt, "--quiet").code).toBe(0);
    const file = join(ckpt, "checkpoint.safetensors");
    const c = decodeCheckpoint(new Uint8Array(readFileSync(file)), file);
    const { arch, weight_decay, classes, ...older } = c.settings;
    expect([arch, weight_decay, classes]).toEqual(["lenet5", 0, 10]);
    writeFileSync(file, encodeCheckpoint({ ...c, settings: older }));
    const r = run("train", "--resume", ckpt, "--epochs", "2", "--json", "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!).settings).toMatchObject({ arch: "lenet5", weight_decay: 0, classes: 10, epochs: 2 });
  });

  it("the same seed gives the same model, byte for byte", () => {
    const a = join(dir, "a.safetensors"), b = join(dir, "b.safetensors");
    expect(run("train", "--data", dir, "--epochs", "1", "--validation", "300", "--out", a, "--quiet").code).toBe(0);
    expect(run("train", "--data", dir, "--epochs", "1", "--validation", "300", "--out", b, "--quiet").code).toBe(0);
    const [x, y] = [decodeModel(readFileSync(a)).weights, decodeModel(readFileSync(b)).weights];
    expect(x).toEqual(y);
  });

  it("--fast-math falls back to the deterministic build where the engine lacks relaxed SIMD", () => {
    const out = join(dir, "fast.safetensors");
    const r = run("train", "--data", dir, "--epochs", "1", "--validation", "300", "--out", out, "--fast-math", "--json");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").pop()!);
    if (Number(process.versions.node.split(".")[0]) < 22) {
      // Node 20 has relaxed SIMD only behind --experimental-wasm-relaxed-simd.
      expect(r.stderr).toMatch(/no relaxed SIMD.*using the default deterministic build/);
      expect(result.settings.fast_math).toBe(false);
    } else {
      expect(result.settings.fast_math).toBe(true);
    }
  });

  it("--dataset fashion-mnist (Debian's dataset-fashion-mnist): trains, and evaluate/predict use its class names", () => {
    const out = join(dir, "fashion.safetensors");
    const r = run("train", "--dataset", "fashion-mnist", "--epochs", "1", "--out", out, "--json", "--quiet");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(result.test_accuracy).toBeGreaterThan(0.8); // chance is 0.10; LeNet-5 gets ~84% after 1 epoch
    expect(decodeModel(readFileSync(out)).info.training).toMatchObject({ dataset: "fashion-mnist" });
    const e = run("evaluate", "--model", out); // the model says which dataset: no --dataset needed
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/Ankle boot/);
    const p = run("predict", "--model", out, "--idx", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--index", "0", "--json");
    expect(JSON.parse(p.stdout).predictions[0].name).toBe("Ankle boot"); // the first Fashion-MNIST test image
    expect(run("train", "--dataset", "cifar").stderr).toMatch(/--dataset must be one of mnist, fashion-mnist, got "cifar"/);
  }, 60_000);

  it("--augment, --lr-decay and --recipe reach the training settings; a bad recipe is a usage error", () => {
    const out = join(dir, "aug.safetensors");
    const r = run("train", "--data", dir, "--epochs", "2", "--validation", "300", "--recipe", "augmented", "--out", out, "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expect(decodeModel(readFileSync(out)).info.training).toMatchObject({ augment: true, lr: 0.002, lr_decay: 0.5, validation: 300 });
    expect(run("train", "--recipe", "magic").stderr).toMatch(/--recipe must be one of article, augmented, paper, paper-distorted, got "magic"/);
    // The paper's recipe: its network, 20 epochs (here cut to 1 by --epochs), decay and weight decay.
    const paper = join(dir, "paper-recipe.safetensors");
    const p = run("train", "--data", dir, "--recipe", "paper", "--epochs", "1", "--validation", "300", "--out", paper, "--quiet");
    expect(p.code, p.stderr).toBe(0);
    const { info } = decodeModel(readFileSync(paper));
    expect(info.architecture).toBe("lenet5-1998");
    expect(info.training).toMatchObject({ arch: "lenet5-1998", augment: false, lr: 0.001, lr_decay: 0.85, weight_decay: 0.1, epochs: 1 });
    expect(run("train", "--lr-decay", "1.5").code).toBe(2);
  });

  it("a corrupt model file: exit 1 naming the file", () => {
    const bad = join(dir, "bad.safetensors");
    writeFileSync(bad, Buffer.from("not a model at all"));
    const r = run("evaluate", "--model", bad, "--data", dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bad);
  });
});
