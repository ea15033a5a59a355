// Headless Debian Chromium for tests (playwright-core drives it; .ci/run installs the package).
import { existsSync, rmSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { stopServers } from "./serve.js";

export const CHROMIUM = "/usr/bin/chromium";

/** Launches Chromium, or fails saying how to install it: a browser test never skips silently. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with apt-get update && apt-get install -y chromium (as .ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** A new page that records console errors, uncaught exceptions and every URL it requests. */
export async function openPage(browser: Browser, url: string, options: Parameters<Browser["newPage"]>[0] = {}): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ acceptDownloads: true, ...options });
  const errors: string[] = [], requests: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url);
  return { page, errors, requests };
}

/**
 * One Chromium for the calling test file: launched before its tests, closed after them, with the
 * servers they started (test/serve.ts) and the folders they list in `temp`. `open` as openPage.
 */
export function chromiumForFile(): { open: (url: string, options?: Parameters<Browser["newPage"]>[0]) => ReturnType<typeof openPage>; temp: string[] } {
  let browser: Browser | undefined;
  const temp: string[] = [];
  beforeAll(async () => {
    browser = await launchChromium(); // fails, saying how to install it, when /usr/bin/chromium is missing
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    stopServers();
    for (const dir of temp) rmSync(dir, { recursive: true, force: true });
  });
  return { open: (url, options) => openPage(browser!, url, options), temp };
}

/** Whether an inline script added to the page runs ("refused" under script-src 'self'). */
export function inlineScript(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const script = document.createElement("script");
    script.textContent = "document.body.dataset.inline = 'ran'";
    document.body.append(script);
    await new Promise((r) => setTimeout(r, 50));
    return document.body.dataset.inline ?? "refused";
  });
}
