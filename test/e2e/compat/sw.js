// A module Service Worker (no DOM, no dynamic import()), the context of offline apps and browser
// extensions: it answers ./sw-predict with the probabilities of 50 test images, from the inference bundle.
import * as lib from "/lenet-wasm/inference.js";
import { base64, fetchBytes } from "./shared.js";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  if (new URL(event.request.url).pathname.endsWith("/sw-predict")) event.respondWith(predict());
});

async function predict() {
  try {
    const [test, model] = await Promise.all([fetchBytes("/data/t10k-images-idx3-ubyte"), fetchBytes("/lenet5.safetensors")]);
    // The inference bundle has no parseIdx: the IDX images header is 16 bytes.
    const images = test.subarray(16);
    const net = await lib.LeNet5.create();
    net.setWeights(lib.decodeModel(model).weights);
    return Response.json({ probabilities: base64(net.predict(images, 50)) });
  } catch (err) {
    return Response.json({ error: String(err?.stack ?? err) });
  }
}
