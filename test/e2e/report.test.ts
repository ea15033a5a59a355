// The HTML report and the confusion matrix: right numbers, and a page that really renders in Chromium.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeNet5 } from "../../src/model/lenet.js";
import { evaluateDetailed, formatConfusion } from "../../src/eval/metrics.js";
import { subset } from "../../src/data/datasets.js";
import { decodeModel } from "../../src/io/model-file.js";
import { renderReport, reportInput } from "../../src/eval/report.js";
import { evaluate, type EpochMetrics } from "../../src/eval/metrics.js";
import { train } from "../../src/train/train.js";
import { launchChromium } from "../chromium.js";
import { mnist, writeMnistDir } from "../helpers.js";

const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));

describe("report", () => {
  let model: LeNet5, history: EpochMetrics[];
  const test = subset(mnist().test, 0, 500);
  let browser: Browser;

  beforeAll(async () => {
    model = await LeNet5.create({ seed: 2 });
    const all = mnist().train;
    history = (await train(model, subset(all, 0, 2000), { epochs: 3, validation: subset(all, 50000, 300) })).history;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("the confusion matrix adds up and agrees with evaluate()", () => {
    const e = evaluateDetailed(model, test, 12);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(500);
    expect(e.confusion.reduce((a, row, c) => a + row[c]!, 0)).toBe(e.correct);
    const plain = evaluate(model, test);
    expect(e.accuracy).toBe(plain.accuracy);
    expect(e.loss).toBeCloseTo(plain.loss, 12);
    for (let c = 0; c < 10; c++) expect(e.perClass[c]!.support).toBe(test.labels.filter((l) => l === c).length);
    expect(e.worst.length).toBe(Math.min(12, 500 - e.correct));
    for (let i = 1; i < e.worst.length; i++) expect(e.worst[i]!.confidence).toBeLessThanOrEqual(e.worst[i - 1]!.confidence);
    for (const m of e.worst) expect(test.labels[m.index]).toBe(m.label);
    expect(formatConfusion(e).split("\n")).toHaveLength(11);
  });

  it("renders in Chromium with every part, and no errors", async () => {
    const html = renderReport(reportInput(model, test, { history, settings: { epochs: 3 }, environment: { node: process.version } }));
    expect(html).not.toMatch(/<script|https?:\/\//); // self-contained: no scripts, no network
    const file = join(mkdtempSync(join(tmpdir(), "lenet-report-")), "report.html");
    writeFileSync(file, html);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(pathToFileURL(file).href);
    const count = (selector: string) => page.locator(selector).count();
    expect(await count('[data-series="train loss"] circle')).toBe(3);
    expect(await count('[data-series="validation accuracy"] circle')).toBe(3);
    expect(await count(".confusion .cell")).toBe(100);
    const wrong = 500 - evaluate(model, test).correct;
    expect(await count(".mistake")).toBe(Math.min(36, wrong));
    expect(await count("img.filter")).toBe(6);
    expect(await count("img.map.c1")).toBe(6);
    expect(await count("img.map.c3")).toBe(16);
    // Every embedded image decoded.
    const broken = await page.evaluate(() => Array.from(document.images).filter((i) => !(i.complete && i.naturalWidth > 0)).length);
    expect(broken).toBe(0);
    expect(problems).toEqual([]);
    if (process.env.GALLERY) await page.screenshot({ path: fileURLToPath(new URL("../../docs/gallery/report.png", import.meta.url)), fullPage: true });
    await page.close();
  });

  it("a report from a real 5-epoch run on the full MNIST shows every part in Chromium", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lenet-report-real-"));
    const report = join(dir, "report.html");
    const r = spawnSync(process.execPath, [CLI, "train", "--out", join(dir, "m.safetensors"), "--report", report, "--json", "--quiet"], { encoding: "utf8", timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(result.epochs).toBe(5);
    expect(result.test_accuracy).toBeGreaterThan(0.98);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await page.goto(pathToFileURL(report).href);
    for (const series of ["train loss", "validation loss", "train accuracy", "validation accuracy"]) {
      expect(await page.locator(`[data-series="${series}"] circle`).count(), series).toBe(5);
    }
    expect(await page.locator(".confusion .cell").count()).toBe(100);
    expect(await page.locator(".mistake").count()).toBe(36);
    expect(await page.locator("img.filter").count()).toBe(6);
    expect(await page.locator("img.map.c1").count() + await page.locator("img.map.c3").count()).toBe(22);
    expect(await page.locator("#summary .big").textContent()).toBe(`${(100 * result.test_accuracy).toFixed(2)}%`);
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);

  it("train --report/--history and report --model write them from the CLI", () => {
    const dir = mkdtempSync(join(tmpdir(), "lenet-report-cli-"));
    writeMnistDir(dir, 1500, 300);
    const out = join(dir, "m.safetensors"), report = join(dir, "r.html"), historyFile = join(dir, "h.json");
    const r = spawnSync(process.execPath, [CLI, "train", "--data", dir, "--epochs", "2", "--validation", "300", "--out", out, "--report", report, "--history", historyFile, "--quiet"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(historyFile, "utf8"))).toHaveLength(2);
    expect(readFileSync(report, "utf8")).toMatch(/data-series="train loss"/);
    expect(decodeModel(readFileSync(out)).info.history).toHaveLength(2);
    const again = join(dir, "again.html");
    const rep = spawnSync(process.execPath, [CLI, "report", "--model", out, "--data", dir, "--out", again], { encoding: "utf8" });
    expect(rep.status, rep.stderr).toBe(0);
    expect(existsSync(again)).toBe(true);
    expect((readFileSync(again, "utf8").match(/<circle/g) ?? []).length).toBe(8); // 4 series x 2 epochs
    const ev = spawnSync(process.execPath, [CLI, "evaluate", "--model", out, "--data", dir], { encoding: "utf8" });
    expect(ev.stdout).toMatch(/true\\pred\s+0\s+1\s+2/);
    const evJson = spawnSync(process.execPath, [CLI, "evaluate", "--model", out, "--data", dir, "--json"], { encoding: "utf8" });
    const parsed = JSON.parse(evJson.stdout.trim());
    expect(parsed.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(300);
    expect(parsed.per_class).toHaveLength(10);
  });
});
