// The shape of src/: folders are layers, each importing only from itself and the layers below it,
// and no file imports itself back through others (no cycles, type-only imports included).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../src", import.meta.url));

/** The layers, bottom first; the entry points (src/*.ts) sit above them all. */
export const LAYERS = ["wasm", "model", "data", "eval", "train", "io", "cli"] as const;

const rank = (file: string): number => {
  const top = file.split("/")[0]!;
  return file.includes("/") ? LAYERS.indexOf(top as (typeof LAYERS)[number]) : LAYERS.length;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** file -> the src files it imports (relative imports only; static, type-only and dynamic alike). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of sourceFiles(src)) {
    const text = readFileSync(path, "utf8");
    const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)["'](\.{1,2}\/[^"']+)["']/gm)].map((m) => m[1]!);
    const targets = specs.filter((s) => s.endsWith(".js")).map((s) => relative(src, resolve(dirname(path), s)).replace(/\.js$/, ".ts"));
    graph.set(relative(src, path), targets);
  }
  return graph;
}

/** Every import that goes up a layer: [from, to]. */
export function upwardImports(graph: Map<string, string[]>): [string, string][] {
  return [...graph].flatMap(([from, tos]) => tos.filter((to) => rank(to) > rank(from)).map((to): [string, string] => [from, to]));
}

/** One cycle of the graph as a path that starts and ends at the same file, or undefined. */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === "done") return undefined;
    if (state.get(file) === "open") return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, "open");
    stack.push(file);
    for (const to of graph.get(file) ?? []) {
      const cycle = visit(to);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, "done");
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("src/ layers", () => {
  const graph = importGraph();

  it("every file is in a layer folder or is an entry point at the top", () => {
    const outside = [...graph.keys()].filter((f) => f.includes("/") && !LAYERS.includes(f.split("/")[0] as (typeof LAYERS)[number]));
    expect(outside).toEqual([]);
    for (const tos of graph.values()) for (const to of tos) expect(graph.has(to), `${to} is imported but is not a source file`).toBe(true);
  });

  it(`imports go only down: ${LAYERS.join(" < ")} < entry points`, () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(findCycle(graph)).toBeUndefined();
  });

  it("the checks fail on a cycle and on an upward import", () => {
    const bad = new Map([["model/a.ts", ["model/b.ts"]], ["model/b.ts", ["train/c.ts"]], ["train/c.ts", ["model/a.ts"]]]);
    expect(findCycle(bad)).toEqual(["model/a.ts", "model/b.ts", "train/c.ts", "model/a.ts"]);
    expect(upwardImports(bad)).toEqual([["model/b.ts", "train/c.ts"]]);
  });
});
