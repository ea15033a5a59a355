// The JavaScript runtimes users run lenet-wasm in, besides the Node that runs the tests: official
// linux-x64 binaries from the npm registry (test/runtimes/package.json pins them), installed by
// `npm ci` there on first use (the registry is the only network the tests need; a second run reuses them).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("./runtimes/", import.meta.url));
const modules = join(dir, "node_modules");

export interface Runtime {
  /** "Node 22", "Deno 2", ... */
  name: string;
  /** The command that runs a JavaScript file: the file's path is appended. */
  command: string[];
  /** Its own version string (`--version`). */
  version: string;
}

/** Whether this machine can run the pinned binaries. */
export const RUNTIMES_SUPPORTED = process.platform === "linux" && process.arch === "x64";

/** Installs the pinned runtimes when they are not yet (npm ci in test/runtimes/), then lists them. */
export function installRuntimes(): Runtime[] {
  const pinned = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
  const current = Object.entries(pinned).every(([name, spec]) => {
    const file = join(modules, name, "package.json");
    return existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version === spec.split("@").pop();
  });
  if (!current) {
    const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) throw new Error(`npm ci in ${dir} failed (it needs the npm registry):\n${r.stdout}\n${r.stderr}`);
  }
  const candidates: [string, string[]][] = [
    ["Node 22", [join(modules, "node22/bin/node")]],
    ["Node 24", [join(modules, "node24/bin/node")]],
    ["Node 26", [join(modules, "node26/bin/node")]],
    // -A: files, environment, workers; Deno runs the package through its Node compatibility layer.
    ["Deno 2", [join(modules, "@deno/linux-x64-glibc/deno"), "run", "-A"]],
    // The package ships the binary as bin/bun.exe; its postinstall only links it (not needed here).
    ["Bun 1", [existsSync(join(modules, "@oven/bun-linux-x64/bin/bun")) ? join(modules, "@oven/bun-linux-x64/bin/bun") : join(modules, "bun/bin/bun.exe")]],
  ];
  return candidates.map(([name, command]) => {
    const r = spawnSync(command[0]!, ["--version"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${name} (${command[0]}) does not run: ${r.stderr || r.error?.message}`);
    return { name, command, version: r.stdout.trim().split("\n")[0]! };
  });
}

/** Runs `script` (a path) with `args` in `runtime`, or in this Node when runtime is undefined. */
export function runIn(runtime: Runtime | undefined, script: string, args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...pre] = runtime?.command ?? [process.execPath];
  const r = spawnSync(cmd!, [...pre, script, ...args], { encoding: "utf8", timeout: 300_000, cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : "") };
}
