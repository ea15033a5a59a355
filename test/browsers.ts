// The three browser engines, each driven the way its maintainers support, behind one interface:
// open a URL, wait for the page to set a global, read it. Chromium: Debian's chromium through
// playwright-core (CDP). Firefox: Debian's firefox-esr through puppeteer-core (WebDriver BiDi).
// WebKit: WebKitGTK's MiniBrowser through its WebDriver (WebKitWebDriver, W3C WebDriver), under
// xvfb-run (MiniBrowser needs a display). .ci/run installs the Debian packages.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import puppeteer from "puppeteer-core";
import { launchChromium } from "./chromium.js";

export interface Engine {
  name: "Chromium" | "Firefox" | "WebKit";
  /** Opens `url` in a new page (or session): a page whose expressions can be evaluated. */
  open(url: string): Promise<EnginePage>;
  close(): Promise<void>;
}

export interface EnginePage {
  /** The value of a JavaScript expression in the page, as JSON. */
  evaluate(expression: string): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Opens `url` and returns `globalThis[name]` once the page has set it. While it waits it watches
 * `globalThis.__step`, so a page that never finishes fails saying where it stopped.
 */
export async function readGlobal(engine: Engine, url: string, name: string, timeoutMs = 120_000): Promise<unknown> {
  const page = await engine.open(url);
  try {
    const started = Date.now();
    for (;;) {
      const state = (await page.evaluate(`({ done: globalThis[${JSON.stringify(name)}] !== undefined, step: globalThis.__step ?? null })`)) as { done: boolean; step: string | null };
      if (state.done) return await page.evaluate(`globalThis[${JSON.stringify(name)}]`);
      if (Date.now() - started > timeoutMs) throw new Error(`${engine.name}: ${url} did not set ${name} in ${timeoutMs / 1000} s; it was at step ${state.step}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await page.close();
  }
}

const FIREFOX = "/usr/bin/firefox-esr";
const WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver";
const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/** Fails with how to install it when a browser is missing: a browser test never skips silently. */
function need(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install it with apt-get update && apt-get install -y ${pkg} (as .ci/run does)`);
}

export async function chromiumEngine(): Promise<Engine> {
  const browser = await launchChromium();
  return {
    name: "Chromium",
    async open(url) {
      const page = await browser.newPage();
      await page.goto(url);
      return { evaluate: (expression) => page.evaluate(`JSON.parse(JSON.stringify(${expression}))`), close: () => page.close() };
    },
    close: () => browser.close(),
  };
}

export async function firefoxEngine(): Promise<Engine> {
  need(FIREFOX, "firefox-esr");
  const browser = await puppeteer.launch({ browser: "firefox", executablePath: FIREFOX, headless: true });
  return {
    name: "Firefox",
    async open(url) {
      const page = await browser.newPage();
      await page.goto(url);
      return { evaluate: (expression) => page.evaluate(`JSON.parse(JSON.stringify(${expression}))`), close: () => page.close() };
    },
    close: () => browser.close(),
  };
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export async function webkitEngine(): Promise<Engine> {
  need(WEBKIT_DRIVER, "webkit2gtk-driver");
  need(MINIBROWSER, "webkit2gtk-driver");
  need("/usr/bin/xvfb-run", "xvfb");
  const port = await freePort();
  const driver: ChildProcess = spawn("xvfb-run", ["-a", WEBKIT_DRIVER, `--port=${port}`], { stdio: "ignore", detached: true });
  const base = `http://127.0.0.1:${port}`;
  /**
   * One W3C WebDriver command; its value. Each has a time limit: once in a few dozen runs a new
   * MiniBrowser session never answered, and without one the test waited for its own timeout
   * without saying where.
   */
  async function command(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<unknown> {
    const signal = AbortSignal.timeout(timeoutMs);
    const response = await fetch(base + path, { method, signal, headers: { "Content-Type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
      .catch((err: Error) => { throw new Error(`WebKitWebDriver ${method} ${path}: ${err.name === "TimeoutError" ? `no answer in ${timeoutMs / 1000} s` : err.message}`); });
    const json = (await response.json()) as { value: unknown };
    if (!response.ok) throw new Error(`WebKitWebDriver ${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  }
  /** A new session (a MiniBrowser) at `url`: tried twice, since starting the browser is what hung. */
  async function session(url: string): Promise<string> {
    const capabilities = { alwaysMatch: { "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } } };
    for (let attempt = 1; ; attempt++) {
      let sessionId: string | undefined;
      try {
        sessionId = ((await command("POST", "/session", { capabilities }, 30_000)) as { sessionId: string }).sessionId;
        await command("POST", `/session/${sessionId}/url`, { url }, 30_000);
        return sessionId;
      } catch (err) {
        if (sessionId !== undefined) await command("DELETE", `/session/${sessionId}`, undefined, 10_000).catch(() => undefined);
        if (attempt === 2) throw err;
      }
    }
  }
  for (let tries = 0; ; tries++) { // the driver takes a moment to listen
    try {
      await command("GET", "/status");
      break;
    } catch (err) {
      if (tries > 100) throw new Error(`WebKitWebDriver did not start on port ${port}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    name: "WebKit",
    async open(url) {
      const sessionId = await session(url);
      return {
        evaluate: async (expression) =>
          JSON.parse((await command("POST", `/session/${sessionId}/execute/sync`, { script: `return JSON.stringify(${expression});`, args: [] })) as string),
        close: async () => void (await command("DELETE", `/session/${sessionId}`).catch(() => undefined)),
      };
    },
    async close() {
      try {
        process.kill(-driver.pid!, "SIGTERM"); // xvfb-run, its X server and the driver
      } catch {
        // already gone
      }
    },
  };
}
