import { defineConfig } from "vitest/config";

// Node 20 has relaxed SIMD behind a flag; Node >= 22 has it on by default.
const relaxedFlag = Number(process.versions.node.split(".")[0]) < 22 ? ["--experimental-wasm-relaxed-simd"] : [];

// Many tests train or start Chromium; on a shared 2-core machine they can take a while. This is
// hang protection only: no test asserts on time.
const TIMEOUTS = { testTimeout: 120_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    projects: [
      // Everything, against the default (deterministic) build.
      { test: { name: "default", include: ["test/**/*.test.ts"], ...TIMEOUTS } },
      // The kernel tests again, against the relaxed-SIMD (--fast-math) build.
      {
        test: {
          name: "relaxed-simd",
          include: ["test/kernels.test.ts"],
          env: { LENET_KERNELS: "relaxed" },
          execArgv: relaxedFlag,
          ...TIMEOUTS,
        },
      },
    ],
  },
});
