// The training data of the web pages' workers: IDX files a person picked or dropped (plain or .gz,
// any names), or the MNIST copy served with the page (mnist/). Shared by train-worker.js and
// explain-worker.js.
import { datasetFromIdx, parseIdx } from "./lenet-wasm/lenet-wasm.js";

export const MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** The four MNIST files from the page's origin, as { name, bytes }. */
export async function servedMnist() {
  const settled = await Promise.allSettled(MNIST_FILES.map(async (name) => {
    const response = await fetch(`mnist/${name}`);
    if (!response.ok) throw new Error(`mnist/${name}: HTTP ${response.status} (the page's server has no MNIST copy: pick the IDX files instead)`);
    return { name, bytes: new Uint8Array(await response.arrayBuffer()) };
  }));
  // The first file that failed in the list's order, not whichever failure arrived first: the same
  // message every time.
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => s.value);
}

/**
 * The training set and (when given) the test set in `files`, whatever their names: images are IDX
 * files of rank 3, labels of rank 1, paired by count; the larger set trains.
 */
export function datasets(files) {
  const parsed = files.map((f) => ({ ...f, dims: parseIdx(f.bytes, { file: f.name }).dims }));
  const images = parsed.filter((f) => f.dims.length === 3).sort((a, b) => b.dims[0] - a.dims[0]);
  const sets = images.map((img) => {
    const labels = parsed.find((f) => f.dims.length === 1 && f.dims[0] === img.dims[0]);
    if (!labels) throw new Error(`no labels file with ${img.dims[0]} labels for ${img.name}`);
    return datasetFromIdx(img.bytes, labels.bytes, { images: img.name, labels: labels.name });
  });
  if (sets.length === 0) throw new Error("no images file among the files (an IDX file of rank 3)");
  return { all: sets[0], test: sets[1] };
}
