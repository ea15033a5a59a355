// Installs the package as users get it (`npm pack`, then `npm install` of the tarball into an empty
// folder) without the network and without the machine's npm cache: every runtime dependency is packed
// from this checkout's node_modules too, and npm runs with a fresh, empty cache of its own. So the
// result depends on nothing an earlier, unrelated install left behind.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The runtime dependencies of the package, transitively, as folders of node_modules. */
export function runtimeDependencies(): string[] {
  const found = new Set<string>();
  const visit = (dir: string) => {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      // Node's resolution: the nearest node_modules up from `dir` that has it.
      let at = dir, path: string | undefined;
      for (;;) {
        const candidate = join(at, "node_modules", name);
        try {
          readFileSync(join(candidate, "package.json"));
          path = candidate;
          break;
        } catch {
          if (at === root || at === join(at, "..")) break;
          at = join(at, "..");
        }
      }
      if (path === undefined) throw new Error(`dependency ${name} of ${dir} is not installed: run npm ci`);
      if (!found.has(path)) {
        found.add(path);
        visit(path);
      }
    }
  };
  visit(root);
  return [...found];
}

/** Runs a command; fails with its output when it fails. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 180_000, env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status})\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * A new folder with a package.json (`app`, ESM) and lenet-wasm installed from its packed tarball
 * (build/ as it is now), offline, with an empty npm cache. Returns the folder.
 */
export function installPackedPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), "lenet-app-"));
  const tarballs = join(dir, "tarballs");
  const env = { ...process.env, npm_config_cache: join(dir, "npm-cache"), npm_config_update_notifier: "false" };
  run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir, root], dir, env);
  run("mkdir", ["-p", tarballs], dir);
  for (const dep of runtimeDependencies()) run("npm", ["pack", "--ignore-scripts", "--pack-destination", tarballs, dep], dir, env);
  const tarball = readdirSync(dir).find((f) => f.startsWith("lenet-wasm-") && f.endsWith(".tgz"))!;
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  const deps = readdirSync(tarballs).map((f) => `./tarballs/${f}`);
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", `./${tarball}`, ...deps], dir, env);
  return dir;
}
