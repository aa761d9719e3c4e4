import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { fitLine } from '../../../src/logging/line-limit.js';
import { createLogger } from '../../../src/logging/logger.js';
import { redaction } from '../../../src/logging/redaction.js';
import { captureLogs } from '../../support/log-capture.js';

const kit = {
  level: 'error',
  time: '2026-12-04T10:00:00.000Z',
  service: 'notes-api',
  instance: 'ip-10-0-0-1',
  requestId: 'req-7f3a',
  traceId: '1-67500000-0123456789abcdef01234567',
  spanId: '0123456789abcdef',
};
const lineOf = (fields: object) => `${JSON.stringify({ ...kit, ...fields })}\n`;
const bytes = (line: string) => Buffer.byteLength(line);

describe('fitLine', () => {
  it('returns a line that fits as it is', () => {
    const line = lineOf({ msg: 'x'.repeat(15_000) });
    expect(fitLine(line, 16_000)).toBe(line);
    const euros = lineOf({ msg: '€'.repeat(5_000) }); // 15,000 bytes of text: fits, counted in bytes
    expect(fitLine(euros, 16_000)).toBe(euros);
  });

  it('cuts the longest values of a line too long, keeps the kit fields whole, and says so', () => {
    const stack = `Error: boom\n${'    at handler (/app/server.mjs:10:5)\n'.repeat(2_000)}`;
    const line = lineOf({ msg: 'query failed', err: { type: 'Error', message: 'boom', stack }, user: 'u-1' });
    const fitted = fitLine(line, 16_000);
    expect(bytes(fitted)).toBeLessThanOrEqual(16_000);
    expect(fitted.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(fitted) as Record<string, unknown> & { err: { stack: string } };
    expect(parsed).toMatchObject({ ...kit, msg: 'query failed', user: 'u-1', truncated: true });
    expect(parsed.lineBytes).toBe(bytes(line));
    expect(parsed.err.stack.startsWith('Error: boom\n    at handler')).toBe(true);
    expect(parsed.err.stack).toMatch(/… \(\d+ more characters\)$/);
    expect(Object.keys(parsed).slice(0, 3)).toEqual(['level', 'time', 'service']); // order kept
  });

  it('writes its own truncated, lineBytes and fieldsDropped once, over fields of the app of those names', () => {
    const line = lineOf({ truncated: 'no', lineBytes: 5, fieldsDropped: 0, msg: 'x'.repeat(20_000) });
    const fitted = fitLine(line, 16_000);
    expect(fitted.match(/"truncated":/g)).toHaveLength(1);
    expect(fitted.match(/"lineBytes":/g)).toHaveLength(1);
    expect(fitted.match(/"fieldsDropped":/g)).toHaveLength(1);
    // The app's three are the ones dropped.
    expect(JSON.parse(fitted)).toMatchObject({ truncated: true, lineBytes: bytes(line), fieldsDropped: 3 });
  });

  it('cuts a line nested too deeply for the exact-number parse (it was written whole, past the limit)', () => {
    // An AggregateError thousands deep: the parse that keeps large numbers exact runs out of stack.
    const depth = 20_000;
    const line = lineOf({ msg: 'deep', deep: '<deep>' }).replace(
      '"<deep>"',
      `${'['.repeat(depth)}${']'.repeat(depth)}`,
    );
    const fitted = fitLine(line, 16_000);
    expect(bytes(fitted)).toBeLessThanOrEqual(16_000);
    expect(JSON.parse(fitted)).toMatchObject({
      ...kit,
      msg: 'deep',
      truncated: true,
      lineBytes: bytes(line),
    });
  });

  it('counts bytes, not characters: a line of multi-byte text is cut to the byte limit', () => {
    const line = lineOf({ msg: '€'.repeat(6_000) }); // 18,000 bytes of text in 6,000 characters
    const fitted = fitLine(line, 16_000);
    expect(bytes(fitted)).toBeLessThanOrEqual(16_000);
    expect((JSON.parse(fitted) as { msg: string }).msg.startsWith('€€€')).toBe(true);
  });

  it('never cuts a surrogate pair in two', () => {
    const fitted = fitLine(lineOf({ note: `a${'😀'.repeat(20_000)}` }), 16_000);
    expect(fitted).not.toMatch(/\\ud[89ab]/);
    expect(bytes(fitted)).toBeLessThanOrEqual(16_000);
  });

  it('cuts long arrays and objects with many keys, and keeps the first of thousands of fields', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const keys = Object.fromEntries(items.map((i) => [`key${i}`, i]));
    const fitted = JSON.parse(fitLine(lineOf({ msg: 'big', items, keys }), 16_000)) as {
      items: unknown[];
      keys: Record<string, unknown>;
    };
    expect(fitted.items.at(-1)).toMatch(/more items/);
    expect(fitted.keys['…']).toMatch(/more keys/);
    // Thousands of top-level fields: the first hundred are kept, and the line says how many went.
    const wide = lineOf({ msg: 'wide', ...Object.fromEntries(items.map((i) => [`f${i}`, 'value'])) });
    expect(JSON.parse(fitLine(wide, 16_000))).toEqual({
      ...kit,
      msg: 'wide',
      ...Object.fromEntries(items.slice(0, 100).map((i) => [`f${i}`, 'value'])),
      truncated: true,
      lineBytes: bytes(wide),
      fieldsDropped: 9_900,
    });
  });

  it('keeps the message under its key among the first fields', () => {
    const wide = lineOf({
      ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, 'value'])),
      message: 'wide',
    });
    expect(JSON.parse(fitLine(wide, 16_000, 'message'))).toMatchObject({
      ...kit,
      f99: 'value',
      message: 'wide',
      truncated: true,
      fieldsDropped: 9_900,
    });
  });

  it('keeps err and the first fields of an error line of many fields, not the message alone', () => {
    const err = {
      type: 'Error',
      message: 'the cause we need',
      stack: `Error: the cause\n${'    at f (/app/a.mjs:1:1)\n'.repeat(50)}`,
    };
    const fields = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`field${i}`, 'v'.repeat(100)]));
    const line = lineOf({ err, ...fields, msg: 'payment failed' });
    const fitted = fitLine(line, 16_000);
    expect(bytes(fitted)).toBeLessThanOrEqual(16_000);
    const parsed = JSON.parse(fitted) as Record<string, unknown>;
    expect(parsed).toMatchObject({ ...kit, err: { message: 'the cause we need' }, msg: 'payment failed' });
    expect(parsed.field0).toBe('v'.repeat(100));
    const kept = Object.keys(parsed).filter((key) => /^field\d+$/.test(key)).length;
    expect(kept).toBeGreaterThan(0);
    expect(parsed.fieldsDropped).toBe(250 - kept);
  });

  it('keeps err and as many first fields as fit when even the shortest round does not fit', () => {
    const err = { type: 'Error', message: 'the cause we need', stack: 's'.repeat(5_000) };
    const fields = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, 'v'.repeat(60)]));
    const line = lineOf({ err, ...fields, msg: 'm'.repeat(3_000) });
    const fitted = fitLine(line, 1_024);
    expect(bytes(fitted)).toBeLessThanOrEqual(1_024);
    const parsed = JSON.parse(fitted) as Record<string, unknown> & { err: { message: string } };
    expect(parsed).toMatchObject({ ...kit, truncated: true });
    expect(parsed.err.message).toBe('the cause we need');
    expect(parsed.msg).toMatch(/^m+… \(\d+ more characters\)$/);
    expect(parsed.field0).toBe('v'.repeat(60));
  });

  it('keeps the nesting of a deep value while the line fits, cutting its long leaf', () => {
    let deep: object = { leaf: 'x'.repeat(30_000) };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const fitted = fitLine(lineOf({ msg: 'deep', deep }), 16_000);
    expect(bytes(fitted)).toBeLessThanOrEqual(16_000);
    let value = (JSON.parse(fitted) as { deep: unknown }).deep as Record<string, unknown>;
    for (let i = 0; i < 20; i++) value = value.d as Record<string, unknown>;
    expect(value.leaf).toMatch(/^x{4096}… \(25904 more characters\)$/);
  });

  it('parses a line without integers past 2^53 with no reviver (it costs some 7× the parse)', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const items = Array.from({ length: 2_000 }, (_, i) => ({ id: 1e15 + i, price: 19.99 + i }));
      fitLine(lineOf({ msg: 'm', items }), 16_000);
      expect(parse).toHaveBeenCalled();
      for (const args of parse.mock.calls) expect(args).toHaveLength(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('stringifies about what it writes, not every field of a wide line in every round', () => {
    const wide = lineOf({
      msg: 'wide',
      ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`f${i}`, i % 2 ? 'x'.repeat(300) : i])),
    });
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const fitted = fitLine(wide, 16_000);
      const written = stringify.mock.results.reduce(
        (sum, result) => sum + (typeof result.value === 'string' ? result.value.length : 0),
        0,
      );
      expect(written).toBeLessThan(4 * 16_000); // the line is 3 MB
      expect(JSON.parse(fitted)).toMatchObject({ msg: 'wide', f0: 0, truncated: true });
    } finally {
      stringify.mockRestore();
    }
  });

  it('fits any line, even at the smallest limit: multi-byte messages cut by bytes, a long kit-named value cut too', () => {
    const many = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`field${i}`, `value-${i}-of-many`]),
    );
    for (const line of [
      lineOf({ msg: '日本語のメッセージ'.repeat(300), ...many }),
      lineOf({ version: 'v'.repeat(5_000), msg: 'a long version' }),
    ]) {
      const fitted = fitLine(line, 1_024);
      expect(bytes(fitted)).toBeLessThanOrEqual(1_024);
      expect(JSON.parse(fitted)).toMatchObject({ requestId: kit.requestId, truncated: true });
    }
  });

  it('keeps a __proto__ key a key', () => {
    const line = `{"level":"info","__proto__":{"polluted":true},"msg":"${'x'.repeat(20_000)}"}\n`;
    const fitted = JSON.parse(fitLine(line, 16_000)) as Record<string, unknown>;
    expect(Object.hasOwn(fitted, '__proto__')).toBe(true);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('keeps the numbers JSON cannot round-trip as they were written (a BigInt, an id past 2^53)', () => {
    const line = `{"level":"info","amount":12345678901234567890123,"ids":[9007199254740993],"ratio":0.1,"msg":"${'x'.repeat(20_000)}"}\n`;
    const fitted = fitLine(line, 16_000);
    expect(fitted).toContain('"amount":12345678901234567890123,"ids":[9007199254740993],"ratio":0.1,');
    expect(fitted).toContain('"truncated":true');
  });

  it('writes a line that is not a JSON object as it is', () => {
    const text = `${'x'.repeat(20_000)}\n`;
    expect(fitLine(text, 16_000)).toBe(text);
  });
});

describe('the kit logger', () => {
  it('refuses a limit that is not an integer from 1,024 to 262,144', () => {
    for (const bad of [Number.NaN, 100, 2_000.5, 262_145])
      expect(() => createLogger({ service: 't', maxLineBytes: bad })).toThrow(InvalidArgumentError);
  });

  it('keeps every line to maxLineBytes, masking a secret before any of it could be cut', () => {
    const secret = 'cut-me-never-s3cret-value';
    redaction.addValue(secret);
    try {
      const logs = captureLogs();
      const raw: string[] = [];
      const logger = createLogger({
        service: 't',
        maxLineBytes: 4_096,
        destination: {
          write: (line: string) => {
            raw.push(line);
            logs.write(line);
          },
        },
      });
      // A cut at 1,024 characters (a round of fitLine) would fall inside the secret.
      logger.error({ detail: `${'x'.repeat(1_020)}${secret}${'y'.repeat(10_000)}` }, 'failed');
      expect(bytes(raw[0]!)).toBeLessThanOrEqual(4_096);
      expect(raw[0]).not.toContain(secret.slice(0, 4));
      expect(logs.lines[0]).toMatchObject({ msg: 'failed', service: 't', truncated: true });
      expect(String(logs.lines[0]!.detail)).toMatch(/^x+\[RED/); // masked first, then cut
    } finally {
      redaction.removeValue(secret);
    }
  });
});
