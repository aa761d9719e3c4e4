import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prettyDestination, redactingDestination } from '../../../src/logging/destination.js';
import { RedactionRegistry } from '../../../src/logging/redaction.js';

describe('prettyDestination', () => {
  const empty = mkdtempSync(join(tmpdir(), 'no-pino-pretty-'));

  it('is never used on a pipe, or when turned off', () => {
    expect(prettyDestination('auto', false, process.cwd())).toBeUndefined();
    expect(prettyDestination(false, true, process.cwd())).toBeUndefined();
  });

  it('falls back to JSON when the app has no pino-pretty', () => {
    expect(prettyDestination('auto', true, empty)).toBeUndefined();
    expect(prettyDestination(true, true, empty)).toBeUndefined();
    rmSync(empty, { recursive: true, force: true });
  });
});

describe('redactingDestination', () => {
  it('masks each line before the target sees it, and forwards flush', () => {
    const written: string[] = [];
    let flushed = 0;
    const registry = new RedactionRegistry();
    registry.addValue('top-secret');
    const destination = redactingDestination(
      {
        write: (line: string) => written.push(line),
        flush: (cb?: () => void) => {
          flushed++;
          cb?.();
        },
      } as never,
      registry,
    );
    destination.write('{"msg":"a top-secret b"}\n');
    (destination as unknown as { flush: (cb: () => void) => void }).flush(() => {});
    expect(written).toEqual(['{"msg":"a [REDACTED] b"}\n']);
    expect(flushed).toBe(1);
  });
});
