// Files a person picks (a file input) or drops (on a drop zone): the training pages' data.
/** Calls `onFiles(files)` with the files picked in `input` or dropped on `zone` (highlighted while dragged over). */
export function fileDrop(zone, input, onFiles) {
  input.addEventListener("change", () => onFiles([...input.files]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); onFiles([...e.dataTransfer.files]); });
}

/** "name (size MB), ...": what was picked. */
export const describeFiles = (files) => files.map((f) => `${f.name} (${(f.size / 1e6).toFixed(1)} MB)`).join(", ");
