// `lenet-wasm predict`: classify pictures of digits (PNG files) or an image of an IDX file.
import { cropField, FIELD_SIDE } from "../data/datasets.js";
import { parseIdx } from "../data/idx.js";
import { digitImageFromPng } from "../data/png.js";
import { MIN_INK, toMnistImage } from "../data/preprocess.js";
import { IMAGE_SIDE, PIXELS } from "../model/geometry.js";
import { defaultClassNames } from "../data/datasets.js";
import { loadPredictor, percent, readInput } from "./common.js";
import { datasetFlag } from "./data.js";
import { CliError, intFlag, stringFlag, UsageError, type Flags } from "./flags.js";

export async function commandPredict(flags: Flags, files: string[]): Promise<void> {
  const idxFile = stringFlag(flags, "idx");
  if (idxFile === undefined && flags.index !== undefined) throw new UsageError("--index needs --idx FILE");
  if (idxFile !== undefined && flags.index === undefined) throw new UsageError("--idx needs --index N (which image)");
  if (idxFile === undefined && files.length === 0) throw new UsageError("predict needs PNG files, or --idx FILE --index N");
  const { model, info } = await loadPredictor(flags);
  const N = model.classes, top = intFlag(flags, "top", 3, 1, N);
  // The model's own class names; files without them: the dataset's (--dataset, else the one it was trained on).
  const names = info.classNames ?? defaultClassNames(datasetFlag(flags, info.training?.dataset), N);
  // pixels null: no digit in the picture (blank, a speck, faint noise): said, not classified.
  const inputs: { name: string; pixels: Uint8Array | null }[] = [];
  const read = (file: string) => readInput(file, `read ${file}`);
  if (idxFile !== undefined) {
    const index = intFlag(flags, "index", 0, 0, 2 ** 32 - 1);
    const array = parseIdx(await read(idxFile), { file: idxFile });
    const [count, rows, cols] = array.dims;
    const field = rows === FIELD_SIDE && cols === FIELD_SIDE;
    if (array.dtype !== "u8" || array.dims.length !== 3 || !(field || (rows === IMAGE_SIDE && cols === IMAGE_SIDE))) {
      throw new CliError(`${idxFile}: expected u8 images of 28x28 (an MNIST images file) or 32x32, found ${array.dtype} [${array.dims.join(", ")}]`);
    }
    if (index >= count!) throw new UsageError(`--index ${index} is past the last image of ${idxFile} (${count! - 1})`);
    const side = field ? FIELD_SIDE : IMAGE_SIDE, one = (array.data as Uint8Array).subarray(index * side * side, (index + 1) * side * side);
    const pixels = field ? cropField(one, 1, idxFile, index) : one;
    inputs.push({ name: `${idxFile}[${index}]`, pixels: pixels.some((v) => v >= MIN_INK) ? pixels : null }); // as faint as findDigit's noise: no digit
  }
  for (const file of files) inputs.push({ name: file, pixels: toMnistImage(digitImageFromPng(await read(file), file)) });
  const digits = inputs.filter((x) => x.pixels !== null);
  const images = new Uint8Array(digits.length * PIXELS);
  digits.forEach((x, i) => images.set(x.pixels!, i * PIXELS));
  const probs = digits.length > 0 ? model.predict(images) : new Float32Array(0);
  let next = 0; // the row of probs of the next input that holds a digit
  const results = inputs.map((x) => {
    if (x.pixels === null) return { input: x.name, prediction: null, name: null, no_digit: true, top: [], probabilities: null };
    const i = next++, p = Array.from(probs.subarray(i * N, (i + 1) * N));
    const ranked = p.map((probability, c) => ({ class: c, name: names[c]!, probability })).sort((a, b) => b.probability - a.probability).slice(0, top);
    return { input: x.name, prediction: ranked[0]!.class, name: ranked[0]!.name, no_digit: false, top: ranked, probabilities: p };
  });
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ command: "predict", predictions: results }) + "\n");
    return;
  }
  const width = Math.max(...results.map((r) => r.input.length));
  for (const r of results) {
    if (r.no_digit) {
      process.stdout.write(`${r.input.padEnd(width)}  no digit (a blank picture, or ink too faint or too small to be one)\n`);
      continue;
    }
    const label = (t: { class: number; name: string }) => (t.name === String(t.class) ? t.name : `${t.class} ${t.name}`);
    const rest = r.top.slice(1).map((t) => `${label(t)} ${percent(t.probability)}`).join(", ");
    process.stdout.write(`${r.input.padEnd(width)}  ${label(r.top[0]!)}  (${percent(r.top[0]!.probability)})${rest ? `   then ${rest}` : ""}\n`);
  }
}
