/**
 * The error of a secret that failed to parse as JSON, without the secret in it: V8 quotes the text it
 * parsed in its `SyntaxError` (all of a short one, some ten characters around the fault of a long
 * one), and such an error, kept as a `cause`, would print the secret wherever it is printed (stderr,
 * a `fatal` line) — unmasked, since a value that never loaded was never registered for masking. Only
 * where the parse failed is kept.
 */
export function jsonErrorWithoutContent(error: unknown): SyntaxError {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  const where =
    lineColumn !== null
      ? ` at line ${lineColumn[1]}, column ${lineColumn[2]}`
      : position !== undefined
        ? ` at position ${position}`
        : /end of JSON input/.test(message)
          ? ': it ends too soon'
          : '';
  return new SyntaxError(`not valid JSON${where} (the text is left out: it is a secret)`);
}
