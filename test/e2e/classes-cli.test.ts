// The CLI's --classes N: train on a 12-class folder; evaluate, predict and export follow the model.
// The `classes` option of the API is tested in test/model/classes.test.ts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { writeIdx } from "../../src/data/idx.js";
import { subset } from "../../src/data/datasets.js";
import { mnist, twelveClasses, writeMnistDir } from "../helpers.js";

const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("--classes N", () => {
  it("CLI: train --classes 12 on a 12-class folder; evaluate, predict and export follow the model", () => {
    const dir = mkdtempSync(join(tmpdir(), "lenet-classes-"));
    writeMnistDir(dir, 1500, 300);
    const relabel = (name: string, gz: boolean) => {
      const file = join(dir, name + (gz ? ".gz" : ""));
      const count = name.startsWith("train") ? 1500 : 300;
      const labels = twelveClasses({ images: new Uint8Array(0), labels: (name.startsWith("train") ? subset(mnist().train, 0, count) : subset(mnist().test, 0, count)).labels, count }).labels;
      writeFileSync(file, writeIdx({ dtype: "u8", dims: [count], data: labels }, { gzip: gz }));
    };
    relabel("train-labels-idx1-ubyte", false);
    relabel("t10k-labels-idx1-ubyte", true);
    const plain = run("train", "--data", dir, "--epochs", "1", "--validation", "300", "--out", join(dir, "ten.safetensors"));
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/label 1[01] at index \d+ is outside 0\.\.9\. For more classes, pass --classes N/);
    const out = join(dir, "twelve.safetensors");
    const r = run("train", "--data", dir, "--classes", "12", "--epochs", "1", "--validation", "300", "--out", out, "--json", "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!).settings.classes).toBe(12);
    const e = run("evaluate", "--model", out, "--data", dir, "--json");
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.classes).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
    expect(ev.confusion.length).toBe(12);
    const p = run("predict", "--model", out, "--idx", join(dir, "t10k-images-idx3-ubyte.gz"), "--index", "1", "--top", "12", "--json");
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).predictions[0].probabilities.length).toBe(12);
    expect(run("train", "--data", dir, "--classes", "12", "--arch", "lenet5-1998").stderr).toMatch(/codes for the 10 digits only/);
    expect(run("evaluate", "--model", out, "--data", dir, "--int8").stderr).toMatch(/int8 runs 10-class models only; .*twelve\.safetensors has 12 classes. Leave out --int8/);
  });
});
