// Your own pictures (issue: train/<class>/*.png and test/<class>/*.png, as torchvision's ImageFolder):
// a generated 3-class folder of RGB pictures of any size; class names through the model file,
// evaluate, report and predict; a held-out test set; errors that name the file; convert both ways.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode } from "fast-png";
import { beforeAll, describe, expect, it } from "vitest";
import { classFolderName, readImageFolder } from "../../src/data/image-folder.js";
import { readMnist } from "../../src/data/node-files.js";
import { writeIdx } from "../../src/data/idx.js";
import { subset } from "../../src/data/datasets.js";
import { decodeModel } from "../../src/io/model-file.js";
import { Rng } from "../../src/model/rng.js";
import { MNIST_DIR, writeMnistDir } from "../helpers.js";
import { shapePicture, SHAPES, writeShapes } from "../shapes.js";

const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!);

describe("an image folder of your own pictures (3 classes, RGB, any size)", () => {
  let dir: string, shapes: string, model: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lenet-images-"));
    shapes = join(dir, "shapes");
    writeShapes(shapes, { train: 200, test: 40 });
    model = join(dir, "shapes.safetensors");
  });

  it("trains; the model file keeps the class names; evaluate, report and predict use them", () => {
    const r = run("train", "--data", shapes, "--epochs", "4", "--validation", "60", "--out", model, "--json");
    expect(r.code, r.stderr).toBe(0);
    const result = lastJson(r.stdout);
    expect(result.settings.classes).toBe(3);
    expect(result.settings.train_images).toBe(540);
    expect(result.test_accuracy, "shapes are easy: well above chance (33%)").toBeGreaterThan(0.9);
    const { info } = decodeModel(readFileSync(model));
    expect(info.classNames).toEqual([...SHAPES]);
    expect(info.training!.dataset).toBeNull();

    const e = run("evaluate", "--model", model, "--data", shapes, "--json");
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.classes).toEqual([...SHAPES]);
    expect(ev.count).toBe(120);
    expect(ev.test_accuracy).toBe(result.test_accuracy);
    expect(run("evaluate", "--model", model, "--data", shapes).stdout).toMatch(/circle[\s\S]*cross[\s\S]*square/);

    const picture = join(dir, "a-cross.png");
    writeFileSync(picture, shapePicture("cross", new Rng(99)));
    const p = run("predict", "--model", model, picture, "--json");
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).predictions[0].name).toBe("cross");
    expect(run("predict", "--model", model, picture).stdout).toMatch(/^\S+a-cross\.png {2}1 cross {2}\(/);

    const html = join(dir, "report.html");
    const rep = run("report", "--model", model, "--data", shapes, "--out", html);
    expect(rep.code, rep.stderr).toBe(0);
    const page = readFileSync(html, "utf8");
    for (const name of SHAPES) expect(page).toContain(name);
    expect(page).toContain("on shapes");

    // Without --data, the model's data is not MNIST: say so, not a label error.
    const wrong = run("evaluate", "--model", model);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/the model tells apart circle, cross, square; mnist has 0, 1, .* Pass --data/);
  });

  it("a test folder with only some classes is labelled by name, as the model's", async () => {
    const partial = join(dir, "partial");
    mkdirSync(join(partial, "test"), { recursive: true });
    cpSync(join(shapes, "train"), join(partial, "train"), { recursive: true });
    cpSync(join(shapes, "test", "square"), join(partial, "test", "square"), { recursive: true });
    const data = await readImageFolder(partial);
    expect(data.test.count).toBe(40);
    expect([...new Set(data.test.labels)]).toEqual([2]);
    const e = run("evaluate", "--model", model, "--data", partial, "--json");
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).count).toBe(40);
  });

  it("without test/, every fifth picture of each class is held out, and said; evaluate holds out the same", async () => {
    const noTest = join(dir, "no-test");
    cpSync(join(shapes, "train"), join(noTest, "train"), { recursive: true });
    const out = join(dir, "held-out.safetensors");
    const r = run("train", "--data", noTest, "--epochs", "1", "--validation", "60", "--out", out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`No test/ folder in ${noTest}: every fifth picture of each class (120) is held out as the test set.`);
    expect(r.stderr).toMatch(/420 training, 60 validation images/);
    const e = run("evaluate", "--model", out, "--data", noTest, "--json");
    expect(JSON.parse(e.stdout).count).toBe(120);
    const data = await readImageFolder(noTest);
    expect(data.heldOut).toBe(true);
    // Classes interleaved in proportion: the last 60 (--validation) hold every class.
    expect(new Set(subset(data.train, data.train.count - 60, 60).labels).size).toBe(3);
  });

  it("resumes a run on pictures; a class added since is refused, naming the folder and both counts", () => {
    const folder = join(dir, "resumable"), ckpt = join(dir, "resumable.ckpt"), out = join(dir, "resumable.safetensors");
    cpSync(shapes, folder, { recursive: true });
    expect(run("train", "--data", folder, "--epochs", "1", "--validation", "60", "--checkpoint-dir", ckpt, "--out", out, "--quiet").code).toBe(0);
    const resumed = run("train", "--resume", ckpt, "--epochs", "2", "--quiet");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(decodeModel(readFileSync(out)).info.classNames).toEqual([...SHAPES]);
    cpSync(join(folder, "train", "cross"), join(folder, "train", "star"), { recursive: true });
    const grown = run("train", "--resume", ckpt, "--epochs", "3", "--quiet");
    expect(grown.code).toBe(1);
    expect(grown.stderr).toContain(`${folder} has 4 classes (circle, cross, square, star), but the checkpoint's model has 3.`);
  });

  it("bad input: an error that names the file or folder, exit code 1, no model written", () => {
    const cases: [string, (d: string) => void, RegExp][] = [
      ["a JPEG", (d) => writeFileSync(join(d, "train", "cross", "photo.jpg"), "jpeg"), /train\/cross\/photo\.jpg: lenet-wasm reads PNG pictures only; convert this one to PNG/],
      ["a truncated PNG", (d) => writeFileSync(join(d, "train", "circle", "cut.png"), shapePicture("circle", new Rng(3)).subarray(0, 80)), /train\/circle\/cut\.png: cannot decode this PNG/],
      ["a blank picture", (d) => writeFileSync(join(d, "test", "square", "blank.png"), encode({ width: 40, height: 40, data: new Uint8Array(4800).fill(230), channels: 3, depth: 8 })), /test\/square\/blank\.png: nothing to learn from: the picture is blank/],
      ["a picture outside a class folder", (d) => writeFileSync(join(d, "train", "loose.png"), shapePicture("circle", new Rng(4))), /train\/loose\.png: a picture directly in train\/; put each picture in a folder named after its class/],
      ["a test class train/ lacks", (d) => cpSync(join(d, "test", "cross"), join(d, "test", "star"), { recursive: true }), /test\/star: class "star" is not one of the model's or train\/'s classes \(circle, cross, square\)/],
      ["an empty class folder", (d) => mkdirSync(join(d, "train", "triangle")), /train\/triangle: no PNG pictures in this class folder/],
      ["one class only", (d) => { for (const s of ["cross", "square"]) rmSync(join(d, "train", s), { recursive: true }); }, /train: 1 class; a classifier needs 2\.\.256/],
      ["a classes.txt without a folder's class", (d) => writeFileSync(join(d, "classes.txt"), "circle\ncross\n"), /train\/square: a class folder that .*classes\.txt does not list/],
    ];
    for (const [what, spoil, message] of cases) {
      const bad = join(dir, `bad-${what.replace(/\W+/g, "-")}`);
      mkdirSync(bad);
      writeShapes(bad, { train: 3, test: 1 }, 7);
      spoil(bad);
      const out = join(bad, "model.safetensors");
      const r = run("train", "--data", bad, "--epochs", "1", "--validation", "0", "--out", out, "--quiet");
      expect(r.code, `${what}: ${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr.trim().split("\n"), what).toHaveLength(1);
      expect(existsSync(out), what).toBe(false);
    }
    const twice = run("train", "--data", shapes, "--classes", "5", "--epochs", "1", "--quiet");
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/has 3 classes \(circle, cross, square\), but the run asks for \(--classes\) 5/);
  });
});

describe("convert", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lenet-convert-"));
  });

  it("IDX files -> pictures -> IDX files: the same bytes (MNIST, and Fashion-MNIST's names and light-background pictures)", async () => {
    const idx = join(dir, "idx");
    mkdirSync(idx);
    writeMnistDir(idx, 300, 100);
    expect(run("convert", idx, join(dir, "pictures"), "--quiet").code).toBe(0);
    expect(readdirSync(join(dir, "pictures", "train")).sort()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const back = run("convert", join(dir, "pictures"), join(dir, "back"), "--json");
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ format: "idx", train: 300, test: 100 });
    const original = await readMnist(idx), copy = await readMnist(join(dir, "back"));
    for (const part of ["train", "test"] as const) {
      expect(Buffer.from(copy[part].images).equals(Buffer.from(original[part].images)), part).toBe(true);
      expect(Buffer.from(copy[part].labels).equals(Buffer.from(original[part].labels)), part).toBe(true);
    }

    // Fashion-MNIST: class names that are no folder names ("T-shirt/top"), and the two training
    // pictures whose border is mostly light, which predict alone would invert.
    const fashion = await readMnist("/usr/share/datasets/fashion-mnist", "fashion-mnist");
    const light = [...Array(fashion.train.count).keys()].filter((n) => {
      const im = fashion.train.images.subarray(n * 784, (n + 1) * 784), border: number[] = [];
      for (let i = 0; i < 28; i++) border.push(im[i]!, im[27 * 28 + i]!, im[i * 28]!, im[i * 28 + 27]!);
      return border.sort((a, b) => a - b)[border.length >> 1]! > 127.5;
    });
    expect(light.length).toBeGreaterThan(0);
    const pick = [...Array(200).keys(), ...light];
    const images = new Uint8Array(pick.length * 784), labels = Uint8Array.from(pick, (n) => fashion.train.labels[n]!);
    pick.forEach((n, i) => images.set(fashion.train.images.subarray(n * 784, (n + 1) * 784), i * 784));
    const small = join(dir, "fashion-idx");
    mkdirSync(small);
    for (const [prefix, d] of [["train", { images, labels, count: pick.length }], ["t10k", subset(fashion.test, 0, 50)]] as const) {
      writeFileSync(join(small, `${prefix}-images-idx3-ubyte`), writeIdx({ dtype: "u8", dims: [d.count, 28, 28], data: d.images }));
      writeFileSync(join(small, `${prefix}-labels-idx1-ubyte`), writeIdx({ dtype: "u8", dims: [d.count], data: d.labels }));
    }
    expect(run("convert", small, join(dir, "fashion-pictures"), "--dataset", "fashion-mnist", "--quiet").code).toBe(0);
    expect(run("convert", join(dir, "fashion-pictures"), join(dir, "fashion-back"), "--quiet").code).toBe(0);
    const again = await readMnist(join(dir, "fashion-back"));
    expect(Buffer.from(again.train.images).equals(Buffer.from(images))).toBe(true);
    expect(Buffer.from(again.train.labels).equals(Buffer.from(labels))).toBe(true);
    expect(again.classNames).toEqual(["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
  }, 120_000);

  it("pictures -> IDX files: training on either gives the same weights, and the class names carry over (classes.txt)", () => {
    const shapes = join(dir, "shapes");
    writeShapes(shapes, { train: 60, test: 10 }, 5);
    const idx = join(dir, "shapes-idx");
    expect(run("convert", shapes, idx, "--quiet").code).toBe(0);
    expect(readFileSync(join(idx, "classes.txt"), "utf8")).toBe("circle\ncross\nsquare\n");
    const fromPictures = join(dir, "from-pictures.safetensors"), fromIdx = join(dir, "from-idx.safetensors");
    for (const [data, out] of [[shapes, fromPictures], [idx, fromIdx]] as const) {
      const r = run("train", "--data", data, "--epochs", "1", "--validation", "30", "--out", out, "--quiet");
      expect(r.code, r.stderr).toBe(0);
    }
    const [a, b] = [decodeModel(readFileSync(fromPictures)), decodeModel(readFileSync(fromIdx))];
    for (const name of Object.keys(a.weights)) expect(Buffer.from(a.weights[name]!.buffer).equals(Buffer.from(b.weights[name]!.buffer)), name).toBe(true);
    expect(b.info.classNames).toEqual([...SHAPES]);
  });

  it("writes whole or not at all: an existing folder with files is refused and left as it was", () => {
    const taken = join(dir, "taken");
    mkdirSync(taken);
    writeFileSync(join(taken, "mine.txt"), "keep me");
    const r = run("convert", MNIST_DIR, taken);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/taken already exists and is not an empty folder: nothing was written/);
    expect(readdirSync(taken)).toEqual(["mine.txt"]);
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("class names become folder names: no separators, no hidden folders", () => {
    expect(classFolderName("T-shirt/top")).toBe("T-shirt-top");
    expect(classFolderName("a\\b")).toBe("a-b");
    expect(classFolderName(".hidden")).toBe("_hidden");
    expect(classFolderName("7")).toBe("7");
  });
});
