// scripts/serve.js (the `npm run demo` server) started on a free port for a browser test: the demo,
// the bundles and MNIST by default, or what the arguments add (--root, --mount, --no-isolation).
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const servers: ChildProcess[] = [];

/** Starts a server with these arguments; its base URL ("http://127.0.0.1:PORT/"). */
export function serve(...args: string[]): Promise<string> {
  const server = spawn(process.execPath, [join(root, "scripts/serve.js"), "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.stdout!.on("data", (d: Buffer) => {
      const url = /http:\/\/\S+?\//.exec(String(d))?.[0];
      if (url) resolve(url);
    });
    server.once("exit", (code) => reject(new Error(`scripts/serve.js exited with code ${code}`)));
  });
}

/** Stops every server this test file started (its afterAll). */
export function stopServers(): void {
  for (const server of servers.splice(0)) server.kill();
}
