import type { Readable } from 'node:stream';
import { classifyLogLine } from './log-line.js';

/** Counts of one output stream's lines, by kind. */
export interface OutputTally {
  /** Non-blank lines. */
  readonly lines: number;
  /** JSON objects with a level and a timestamp. */
  readonly structured: number;
  /** JSON objects missing a level or a timestamp. */
  readonly jsonIncomplete: number;
  /** Anything else. */
  readonly text: number;
  /** The first line that was not structured, cut to 160 characters. */
  readonly firstUnstructured: string | undefined;
}

/** One line of the combined tail of stdout and stderr. */
export interface TailLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

// A line longer than this is counted and kept cut: an app that never writes a newline must not grow
// the checker's memory without bound.
const maxLineLength = 64 * 1024;
const shown = 160;

const startFailed = 'the start failed: ';
// The message line of Node's print of an uncaught error: `TypeError: …`, `Error [ERR_X]: …`,
// `DOMException [AbortError]: …` (a cause's is indented, and a stack frame is too).
const errorMessage = /^(?:[A-Z][\w$]*)?(?:Error|Exception)(?: \[[^\]]+\])?: /;

/**
 * What `line` says failed: the kit's `the start failed: …` line (its message, out of the JSON), or
 * the message line of an error Node printed; `undefined` for any other line.
 */
function failureOf(line: string): { readonly kit: boolean; readonly text: string } | undefined {
  const at = line.indexOf(startFailed);
  if (at !== -1) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return { kit: true, text: line.slice(at) };
    }
    const message = Object.values(record ?? {}).find(
      (value) => typeof value === 'string' && value.startsWith(startFailed),
    ) as string | undefined;
    return { kit: true, text: message ?? line.slice(at) };
  }
  return errorMessage.test(line) ? { kit: false, text: line } : undefined;
}

/**
 * Reads an app's stdout and stderr line by line: counts each line's kind and keeps the last lines of
 * both, in the order they arrived, for error messages.
 */
export class OutputCapture {
  readonly #tally = {
    stdout: {
      lines: 0,
      structured: 0,
      jsonIncomplete: 0,
      text: 0,
      firstUnstructured: undefined as string | undefined,
    },
    stderr: {
      lines: 0,
      structured: 0,
      jsonIncomplete: 0,
      text: 0,
      firstUnstructured: undefined as string | undefined,
    },
  };
  readonly #tail: TailLine[] = [];
  #failure: { readonly line: TailLine; readonly kit: boolean } | undefined;
  readonly #tailSize: number;
  readonly #pending = { stdout: '', stderr: '' };

  /** @param tailSize lines kept for {@link OutputCapture.tail}. @default 20 */
  constructor(tailSize = 20) {
    this.#tailSize = tailSize;
  }

  /** Starts reading `stream` as `name`; a last line without a newline is counted when it ends. */
  attach(name: 'stdout' | 'stderr', stream: Readable): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.write(name, chunk));
    stream.on('end', () => this.end(name));
    // A pipe error (the child died) ends the stream: nothing to report beyond what was read.
    stream.on('error', () => this.end(name));
  }

  /** Feeds a chunk of `name`'s output. */
  write(name: 'stdout' | 'stderr', chunk: string): void {
    let buffered = this.#pending[name] + chunk;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      this.#line(name, buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
    if (buffered.length > maxLineLength) {
      this.#line(name, buffered.slice(0, maxLineLength));
      buffered = '';
    }
    this.#pending[name] = buffered;
  }

  /** Ends `name`: its unterminated last line, if any, is counted. */
  end(name: 'stdout' | 'stderr'): void {
    const rest = this.#pending[name];
    this.#pending[name] = '';
    if (rest !== '') this.#line(name, rest);
  }

  /** The counts of `name` so far. */
  tally(name: 'stdout' | 'stderr'): OutputTally {
    return { ...this.#tally[name] };
  }

  /** The last lines of stdout and stderr, oldest first. */
  tail(): readonly TailLine[] {
    return [...this.#tail];
  }

  /**
   * The line that says what failed, kept however many lines came after it: the kit's last `the start
   * failed: …` (its message), else the last error message line Node printed (`Error: …`).
   */
  failure(): TailLine | undefined {
    return this.#failure?.line;
  }

  #line(name: 'stdout' | 'stderr', raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const tally = this.#tally[name];
    tally.lines += 1;
    const kind = classifyLogLine(line);
    if (kind === 'structured') tally.structured += 1;
    else {
      if (kind === 'json-incomplete') tally.jsonIncomplete += 1;
      else tally.text += 1;
      tally.firstUnstructured ??= line.length > shown ? `${line.slice(0, shown - 1)}…` : line;
    }
    const failure = failureOf(line);
    if (failure !== undefined && (failure.kit || this.#failure?.kit !== true)) {
      const text = failure.text.length > 500 ? `${failure.text.slice(0, 499)}…` : failure.text;
      this.#failure = { line: { stream: name, line: text }, kit: failure.kit };
    }
    this.#tail.push({ stream: name, line: line.length > 500 ? `${line.slice(0, 499)}…` : line });
    if (this.#tail.length > this.#tailSize) this.#tail.shift();
  }
}
