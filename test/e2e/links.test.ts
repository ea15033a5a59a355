// Every relative link in the shipped Markdown (README.md, docs/*.md) resolves to a file in the
// package as `npm pack` makes it, so the docs work on the npm package page and in node_modules.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The relative link targets of a Markdown text (anchors and absolute URLs left out). */
export function relativeLinks(markdown: string): string[] {
  const code = /```[\s\S]*?```|`[^`\n]*`/g; // links inside code are not links
  return [...markdown.replace(code, "").matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith("#")).map((target) => target.split("#")[0]!);
}

it("every relative link in the shipped Markdown points to a shipped file", () => {
  const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  expect(files.has("README.md") && files.has("LICENSE")).toBe(true);
  const markdown = [...files].filter((f) => f.endsWith(".md"));
  expect(markdown.length).toBeGreaterThan(5);
  const broken: string[] = [];
  for (const file of markdown) {
    for (const target of relativeLinks(readFileSync(join(root, file), "utf8"))) {
      const path = normalize(join(dirname(file), target));
      if (!files.has(path)) broken.push(`${file} -> ${target}`);
    }
  }
  expect(broken).toEqual([]);
  expect([...files].filter((f) => f.endsWith(".wat"))).toEqual([]); // text builds stay out of the tarball
});

it("the link finder sees links, skips code, anchors and URLs", () => {
  expect(relativeLinks("[a](docs/x.md#y) [b](#z) [c](https://e.org) `[d](e.md)`\n```\n[f](g.md)\n```\n![i](img.png)")).toEqual(["docs/x.md", "img.png"]);
});
