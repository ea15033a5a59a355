// The one error type for an option out of its range, wherever it is checked (the model, the
// datasets, training): `option` names it as the API spells it, so the CLI can name its flag.

/** An option out of its range: `option` names it (as in the API's options), the message says what it must be. */
export class OptionError extends RangeError {
  override readonly name = "OptionError";
  constructor(readonly option: string, message: string) {
    super(`${option} ${message}`);
  }
}
