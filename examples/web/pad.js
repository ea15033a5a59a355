// A drawing pad: strokes with the mouse, a pen or a finger (pointer events) in dark ink on white
// paper, which findDigit turns into MNIST's white on black. Shared by the demo and the explainer.
const LINE_WIDTH = 20; // ~2 px once the digit is scaled into MNIST's 20x20 box, like MNIST's pen

/**
 * Makes `canvas` a pad. `onChange(final)` runs after every change, `final` true when a stroke ends
 * (or the pad is cleared or given a picture): the moment to announce a result.
 */
export function drawingPad(canvas, onChange) {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let last;
  const at = (e) => [(e.offsetX * canvas.width) / canvas.clientWidth, (e.offsetY * canvas.height) / canvas.clientHeight];
  function stroke(from, to) {
    ctx.strokeStyle = "#000";
    ctx.lineWidth = LINE_WIDTH;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
    onChange(false);
  }
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    stroke(last, last);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    stroke(last, p);
    last = p;
  });
  for (const type of ["pointerup", "pointercancel"]) {
    canvas.addEventListener(type, () => {
      if (last) onChange(true);
      last = undefined;
    });
  }
  return {
    /** The pad's pixels, as findDigit takes them. */
    image: () => ctx.getImageData(0, 0, canvas.width, canvas.height),
    clear() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      onChange(true);
    },
    /** Draws a 28x28 MNIST image (white on black, 0..255) as dark ink on the pad, scaled to fill it. */
    show(image) {
      const picture = new ImageData(28, 28);
      image.forEach((v, i) => picture.data.set([255 - v, 255 - v, 255 - v, 255], 4 * i));
      const small = Object.assign(document.createElement("canvas"), { width: 28, height: 28 });
      small.getContext("2d").putImageData(picture, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
      onChange(true);
    },
  };
}
