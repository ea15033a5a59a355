import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["build/", "docs/api/", "node_modules/", "assembly/", "bench/ceiling/", "bench/peers/node_modules/"] },
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
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
);
