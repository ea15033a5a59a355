// The shipped module itself: built with SIMD where it matters, and nothing it should not have.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const wat = readFileSync(new URL("../../build/lenet.wat", import.meta.url), "utf8");

/** The text of each function in build/lenet.wat, by its short name. */
const functions = new Map(
  wat.split(/\n (?=\(func \$)/).slice(1).map((text) => [/^\(func \$[^ ]*\/([^ /]+) /.exec(text)?.[1] ?? "", text]),
);

/** A function's own text plus the text of every module function it calls, transitively. */
function withCallees(name: string, seen = new Set<string>()): string {
  const text = functions.get(name) ?? "";
  seen.add(name);
  const callees = [...text.matchAll(/call \$[^\s)]*\/([^\s/)]+)/g)].map((m) => m[1]!).filter((c) => !seen.has(c));
  return [text, ...callees.map((c) => withCallees(c, seen))].join("\n");
}

describe("build/lenet.wasm", () => {
  it.each(["conv2d_fwd", "conv2d_bwd_input", "conv2d_bwd_weight", "conv2d_bwd_weight_rows", "conv2d_bwd_weight_packed", "conv2d_tanh_pool_rows_keep",
    "dense_fwd", "dense_bwd_input", "dense_bwd_weight", "tanh_fwd", "tanh_bwd", "adam_step", "avgpool2d_fwd", "avgpool2d_bwd", "avgpool2d_tanh_bwd",
    "squash_fwd", "squash_bwd", "subsample2d_fwd", "subsample2d_bwd", "rbf_fwd", "rbf_bwd_input", "mask_f32", "scale_f32"])(
    "%s runs f32x4 SIMD (v128 loads and f32x4 arithmetic)",
    (name) => {
      expect(functions.has(name), `${name} not found in build/lenet.wat`).toBe(true);
      const text = withCallees(name); // the convolutions do their arithmetic in gemm.ts
      expect(text).toMatch(/v128\.load/);
      expect(text).toMatch(name === "mask_f32" ? /f32x4\.eq/ : /f32x4\.(mul|add)/); // a mask compares, it does no arithmetic
    },
  );

  it("imports nothing (no host functions: the same bits on every engine) and exports its memory", () => {
    expect(wat).not.toMatch(/\(import /);
    expect(wat).toMatch(/\(export "memory"/);
  });

  it("has no fused multiply-add (relaxed SIMD would make results hardware-dependent)", () => {
    expect(wat).not.toMatch(/relaxed/);
  });

  it("has a relaxed-SIMD twin (--fast-math) whose GEMM and dense kernels use relaxed_madd", () => {
    const relaxed = readFileSync(new URL("../../build/lenet.relaxed.wat", import.meta.url), "utf8");
    const gemm = relaxed.split(/\n (?=\(func \$)/).find((f) => f.startsWith("(func $assembly/gemm/gemm_nn "));
    expect(gemm).toMatch(/f32x4\.relaxed_madd/);
    expect(relaxed.match(/f32x4\.relaxed_madd/g)!.length).toBeGreaterThan(10);
  });
});
