import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["build/", "docs/api/", "node_modules/", "assembly/", "bench/ceiling/", "bench/peers/node_modules/", "test/runtimes/node_modules/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JS (bench/, configs) runs in Node.
    files: ["**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", performance: "readonly", URL: "readonly", WebAssembly: "readonly" } },
  },
  {
    // The web demo runs in browsers (pages and a module worker).
    files: ["examples/web/**/*.js"],
    languageOptions: {
      globals: Object.fromEntries(["self", "document", "fetch", "requestAnimationFrame", "ImageData", "crossOriginIsolated", "Worker", "Blob", "URL",
        "setTimeout", "performance", "console", "navigator", "AbortController"].map((name) => [name, "readonly"])),
    },
  },
  {
    // The browser tests' page, its Worker and its Service Worker.
    files: ["test/e2e/compat/**/*.js"],
    languageOptions: {
      globals: Object.fromEntries(["self", "document", "navigator", "fetch", "btoa", "Response", "Worker", "WebAssembly", "SharedArrayBuffer", "URL",
        "console", "setTimeout"].map((name) => [name, "readonly"])),
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
);
