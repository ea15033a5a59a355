// Draw a digit: strokes on a canvas -> MNIST-style 28x28 (findDigit) -> LeNet-5 -> ten bars.
// Runs from the prebuilt bundle, no bundler, under `script-src 'self' 'wasm-unsafe-eval'`.
import { LeNet5, decodeModel, findDigit } from "./lenet-wasm/inference.js";
import { drawingPad } from "./pad.js";

const preview = document.querySelector("#preview").getContext("2d");
const prediction = document.querySelector("#prediction");
const status = document.querySelector("#status");

const bars = Array.from({ length: 10 }, (_, digit) => {
  const label = document.createElement("span"), bar = document.createElement("div"), fill = document.createElement("div"), value = document.createElement("span");
  label.textContent = String(digit);
  bar.className = "bar";
  bar.append(fill);
  document.querySelector("#bars").append(label, bar, value);
  return { bar, fill, value };
});

let model;
let pending = false;
/** Classifies at most once per frame, however many pointer events arrive. */
function schedule() {
  if (!pending) requestAnimationFrame(update);
  pending = true;
}

function update() {
  pending = false;
  if (!model) return;
  // null: no digit on the pad (blank, or a speck): nothing to classify, and the page says so.
  const digit = findDigit(pad.image());
  const blank = digit === null;
  const gray = new ImageData(28, 28);
  if (digit) digit.forEach((v, i) => gray.data.set([v, v, v, 255], 4 * i));
  else for (let i = 3; i < gray.data.length; i += 4) gray.data[i] = 255; // black: MNIST's background
  preview.putImageData(gray, 0, 0);
  const probs = blank ? new Float32Array(10) : model.predict(digit);
  const best = blank ? -1 : probs.indexOf(Math.max(...probs));
  prediction.textContent = blank ? "draw a digit" : String(best);
  bars.forEach(({ bar, fill, value }, d) => {
    fill.style.width = `${(probs[d] * 100).toFixed(1)}%`;
    value.textContent = blank ? "" : `${(probs[d] * 100).toFixed(1)}%`;
    bar.classList.toggle("best", d === best);
  });
}

const pad = drawingPad(document.querySelector("#pad"), schedule);
document.querySelector("#clear").addEventListener("click", () => pad.clear());

pad.clear();
try {
  const bytes = new Uint8Array(await (await fetch("lenet5.safetensors")).arrayBuffer());
  const { weights, info } = decodeModel(bytes, "lenet5.safetensors");
  model = await LeNet5.create({ batchSize: 1 });
  model.setWeights(weights);
  const accuracy = info.metrics?.test_accuracy;
  status.textContent = `Ready. Model: lenet5.safetensors${typeof accuracy === "number" ? `, ${(accuracy * 100).toFixed(2)}% on the MNIST test set` : ""}.`;
  document.body.dataset.ready = "true";
  schedule();
} catch (err) {
  status.textContent = `Could not load the model: ${err.message}`;
  console.error(err);
}
