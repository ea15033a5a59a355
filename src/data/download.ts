// Node-only: datasets that fetch themselves, as keras.datasets and torchvision do. The four gzipped
// IDX files of a dataset are downloaded from public mirrors in turn (or from the one the user names),
// checked against the SHA-256 pinned here, and kept in a cache folder; a second run needs no network.
// Nothing unchecked ever enters the cache: a file is written to a temporary name, checked, then renamed,
// under a lock so that two runs never write the same file at once.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "fflate";
import { writeFileAtomic } from "./atomic-file.js";
import type { DatasetName } from "./datasets.js";

/** One file of a dataset: its name on the mirrors (gzipped), and the SHA-256 of its content once gunzipped. */
export interface RemoteFile {
  name: string;
  sha256: string;
}

/** A dataset that can be downloaded: its files, the mirrors that serve them, its source and licence. */
export interface RemoteDataset {
  name: string;
  /** Base URLs, tried in order; each serves the files under their names. */
  mirrors: readonly string[];
  files: readonly RemoteFile[];
  /** Where it comes from and on what terms (shown by `lenet-wasm train --help` and in docs/datasets.md). */
  source: string;
  licence: string;
}

/**
 * The datasets lenet-wasm downloads. The digests are of the gunzipped IDX files (so a mirror that
 * compresses differently still checks), as published for MNIST (LeCun, Cortes and Burges) and
 * Fashion-MNIST (Xiao, Rasul and Vollgraf; github.com/zalandoresearch/fashion-mnist).
 */
export const REMOTE_DATASETS: Readonly<Record<DatasetName, RemoteDataset>> = {
  mnist: {
    name: "mnist",
    mirrors: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    files: [
      { name: "train-images-idx3-ubyte.gz", sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db" },
      { name: "train-labels-idx1-ubyte.gz", sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5" },
      { name: "t10k-images-idx3-ubyte.gz", sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7" },
      { name: "t10k-labels-idx1-ubyte.gz", sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" },
    ],
    source: "MNIST, Yann LeCun, Corinna Cortes and Christopher J.C. Burges (yann.lecun.com/exdb/mnist)",
    licence: "CC BY-SA 3.0",
  },
  "fashion-mnist": {
    name: "fashion-mnist",
    mirrors: ["https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"],
    files: [
      { name: "train-images-idx3-ubyte.gz", sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888" },
      { name: "train-labels-idx1-ubyte.gz", sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9" },
      { name: "t10k-images-idx3-ubyte.gz", sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b" },
      { name: "t10k-labels-idx1-ubyte.gz", sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34" },
    ],
    source: "Fashion-MNIST, Han Xiao, Kashif Rasul and Roland Vollgraf, Zalando Research (github.com/zalandoresearch/fashion-mnist)",
    licence: "MIT",
  },
};

/** A dataset could not be downloaded: every mirror failed, or a file did not check. The message says what to do. */
export class DownloadError extends Error {
  override readonly name = "DownloadError";
}

export interface DownloadOptions {
  /** The cache folder (default: cacheDir()). */
  cache?: string;
  /** Base URLs to download from, instead of the dataset's public mirrors (default: $LENET_WASM_MIRROR, if set). */
  mirrors?: readonly string[];
  /** Called as a file arrives (throttled by the caller): bytes so far, total bytes if known, the file's name. */
  onProgress?: (progress: { file: string; bytes: number; total: number | undefined; mirror: string }) => void;
  /** Attempts per mirror for a connection error or a server error (5xx), with backoff. Default 3. */
  attempts?: number;
  /** Milliseconds without a byte before a download is abandoned (and retried). Default 30,000. */
  stallTimeoutMs?: number;
  /** Milliseconds before the first retry; each retry waits twice as long. Default 500. */
  backoffMs?: number;
}

/**
 * The cache folder: $LENET_WASM_CACHE, else the platform's cache folder ($XDG_CACHE_HOME or
 * ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows) + /lenet-wasm.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LENET_WASM_CACHE) return env.LENET_WASM_CACHE;
  if (process.platform === "win32") return join(env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "lenet-wasm", "Cache");
  if (process.platform === "darwin") return join(homedir(), "Library", "Caches", "lenet-wasm");
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "lenet-wasm");
}

/** The mirrors to use: the given ones, else $LENET_WASM_MIRROR, else the dataset's public ones. */
function mirrorsFor(dataset: RemoteDataset, options: DownloadOptions): string[] {
  const given = options.mirrors ?? (process.env.LENET_WASM_MIRROR ? [process.env.LENET_WASM_MIRROR] : undefined);
  return (given ?? dataset.mirrors).map((m) => (m.endsWith("/") ? m : `${m}/`));
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A mirror's failure to deliver a file: `retry` when another attempt may succeed (a connection error, a 5xx, a stall, a cut body). */
class MirrorFailure extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
  }
}

/** The bytes at `url`, all of them; a MirrorFailure when the mirror does not deliver them. */
async function fetchAll(url: string, file: string, mirror: string, options: DownloadOptions): Promise<Uint8Array> {
  const controller = new AbortController();
  const stall = options.stallTimeoutMs ?? 30_000;
  let timer = setTimeout(() => controller.abort(), stall);
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal });
    } catch (err) {
      throw new MirrorFailure(controller.signal.aborted ? `no answer in ${stall / 1000} s` : `cannot connect (${(err as Error).cause ?? (err as Error).message})`, true);
    }
    if (!response.ok || response.body === null) throw new MirrorFailure(`HTTP ${response.status}`, response.status >= 500);
    const total = Number(response.headers.get("content-length")) || undefined;
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(chunk);
        bytes += chunk.length;
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(), stall);
        options.onProgress?.({ file, bytes, total, mirror });
      }
    } catch {
      throw new MirrorFailure(controller.signal.aborted ? `stalled for ${stall / 1000} s after ${bytes} bytes` : `connection lost after ${bytes} bytes`, true);
    }
    if (total !== undefined && bytes !== total) throw new MirrorFailure(`cut off after ${bytes} of ${total} bytes`, true);
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** Holds the lock file `lock` while `work` runs: created exclusively; another run waits for it (a lock older than 10 minutes is stale). */
async function withLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await (await open(lock, "wx")).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 10 * 60_000) await unlink(lock).catch(() => undefined);
      else await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

/** The gunzipped content of a downloaded file, or why it is not one. */
function gunzipped(bytes: Uint8Array): Uint8Array | string {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    return `not a complete gzip file (${(err as Error).message})`;
  }
}

/**
 * The folder holding `dataset`'s four files, each checked: from the cache, or downloaded into it.
 * @throws DownloadError naming each mirror's failure, and what to do instead
 */
export async function downloadDataset(dataset: RemoteDataset, options: DownloadOptions = {}): Promise<string> {
  const root = options.cache ?? cacheDir(), dir = join(root, dataset.name);
  await mkdir(root, { recursive: true });
  const mirrors = mirrorsFor(dataset, options);
  return withLock(join(root, `${dataset.name}.lock`), async () => {
    // Every missing file is fetched and checked first; only when all check do they enter the cache.
    const fetched: [string, Uint8Array][] = [];
    for (const file of dataset.files) {
      if (existsSync(join(dir, file.name))) continue; // only checked files are ever renamed into the cache
      const failures: string[] = [];
      const attempts = options.attempts ?? 3;
      let done = false;
      for (const mirror of mirrors) {
        const url = mirror + file.name;
        for (let attempt = 1; attempt <= attempts && !done; attempt++) {
          let bytes: Uint8Array;
          try {
            bytes = await fetchAll(url, file.name, mirror, options);
          } catch (err) {
            if (!(err instanceof MirrorFailure)) throw err;
            const again = err.retry && attempt < attempts;
            failures.push(`${url}: ${err.message}${again ? ", retrying" : ""}`);
            if (!again) break; // next mirror
            await sleep((options.backoffMs ?? 500) * 2 ** (attempt - 1));
            continue;
          }
          const content = gunzipped(bytes);
          const digest = typeof content === "string" ? undefined : sha256(content);
          if (digest !== file.sha256) {
            // The same bytes again would not check either: next mirror.
            failures.push(`${url}: ${digest === undefined ? content : `the SHA-256 of its content is ${digest}, not ${file.sha256}: a corrupt or another file`}`);
            break;
          }
          fetched.push([file.name, bytes]);
          done = true;
        }
        if (done) break;
      }
      if (!done) {
        throw new DownloadError(`could not download ${dataset.name}'s ${file.name} from any mirror:\n  ${failures.join("\n  ")}\n` +
          `Pass --data DIR with the four files (${dataset.files.map((f) => f.name.replace(/\.gz$/, "")).join(", ")}; plain or .gz), ` +
          "or set LENET_WASM_MIRROR (or --mirror URL) to a server that has them. Nothing was added to the cache.");
      }
    }
    if (fetched.length > 0) await mkdir(dir, { recursive: true });
    for (const [name, bytes] of fetched) await writeFileAtomic(join(dir, name), bytes);
    return dir;
  });
}
