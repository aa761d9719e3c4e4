/** A pino destination that keeps every line, parsed, for assertions. */
export interface LogCapture {
  readonly lines: Record<string, unknown>[];
  write(line: string): void;
  /** Lines whose `msg` equals `msg`. */
  find(msg: string): Record<string, unknown>[];
}

export function captureLogs(): LogCapture {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
    find(msg: string) {
      return lines.filter((l) => l.msg === msg);
    },
  };
}
