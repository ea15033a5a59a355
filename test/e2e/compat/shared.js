// What the compat page, its Worker and its Service Worker share: fetching the test data, and turning
// results into base64 (Float32 bit patterns survive the trip to Node exactly).

/** The bytes at `url`. */
export async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** A typed array's bytes as base64. */
export function base64(typed) {
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Each tensor of a Weights object as base64, by name. */
export const weightsBase64 = (weights) => Object.fromEntries(Object.entries(weights).map(([name, t]) => [name, base64(t)]));

/** The test data the Node side wrote: 500 test images, 1000 training images and labels, the shipped model. */
export async function testData(lib) {
  const [test, trainImages, trainLabels, model] = await Promise.all(
    ["/data/t10k-images-idx3-ubyte", "/data/train-images-idx3-ubyte", "/data/train-labels-idx1-ubyte", "/lenet5.safetensors"].map(fetchBytes),
  );
  return {
    test: lib.parseIdx(test).data,
    train: lib.datasetFromIdx(trainImages, trainLabels),
    weights: lib.decodeModel(model).weights,
  };
}
