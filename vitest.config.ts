import { defineConfig } from "vitest/config";

// Node 20 has relaxed SIMD behind a flag; Node >= 22 has it on by default.
const relaxedFlag = Number(process.versions.node.split(".")[0]) < 22 ? ["--experimental-wasm-relaxed-simd"] : [];

// Many tests train or start Chromium; on a shared 2-core machine they can take a while. This is
// hang protection only: no test asserts on time.
const TIMEOUTS = { testTimeout: 120_000, hookTimeout: 120_000 };

// The float kernel tests (test/kernels/kernel-harness.ts reads LENET_KERNELS to pick the build).
const FLOAT_KERNEL_TESTS = ["conv", "pool", "dense", "elementwise", "loss", "adam"].map((name) => `test/kernels/${name}.test.ts`);

// `vitest run` runs every project; `npm run test:unit` (vitest run --project unit) is the fast inner
// loop. It runs against the last build: the kernels are build/*.wasm, so run `npm run build` after editing assembly/.
export default defineConfig({
  test: {
    projects: [
      // Kernels, model, file formats and the shape of src/: in-process, against the default (deterministic) build.
      {
        test: {
          name: "unit",
          include: ["test/kernels/**/*.test.ts", "test/model/**/*.test.ts", "test/io/**/*.test.ts", "test/structure/**/*.test.ts"],
          ...TIMEOUTS,
        },
      },
      // Everything that spawns the CLI, Chromium or npm, runs the README's programs or reads the built package.
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], ...TIMEOUTS } },
      // The float kernel tests again, against the relaxed-SIMD (--fast-math) build.
      {
        test: {
          name: "relaxed-simd",
          include: FLOAT_KERNEL_TESTS,
          env: { LENET_KERNELS: "relaxed" },
          execArgv: relaxedFlag,
          ...TIMEOUTS,
        },
      },
    ],
  },
});
