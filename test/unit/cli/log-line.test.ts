import { describe, expect, it } from 'vitest';
import { classifyLogLine } from '../../../src/cli/log-line.js';
import { OutputCapture } from '../../../src/cli/output-capture.js';

describe('classifyLogLine', () => {
  it.each([
    ['{"level":"info","time":"2026-11-26T04:05:18.598Z","msg":"up"}', 'pino with ISO time'],
    ['{"level":30,"time":1700000000000,"msg":"up"}', 'pino with numbers'],
    ['{"level":"warn","timestamp":"2026-11-26 04:05:18","message":"x"}', 'winston'],
    ['{"log.level":"info","@timestamp":"2026-11-26T04:05:18Z"}', 'ECS, dotted'],
    ['{"log":{"level":"error"},"@timestamp":"2026-11-26T04:05:18Z"}', 'ECS, nested'],
    ['{"severity":"INFO","ts":1700000000.5}', 'severity and ts'],
    ['  {"levelname":"DEBUG","datetime":"2026-11-26T04:05:18Z"}  ', 'surrounding blanks'],
  ])('%s is structured (%s)', (line) => {
    expect(classifyLogLine(line)).toBe('structured');
  });

  it.each([
    ['{"msg":"no level or time"}'],
    ['{"level":"info","msg":"no time"}'],
    ['{"time":1700000000000}'],
    ['{"level":"","time":1700000000000}'],
    ['{"level":"info","time":"not a date"}'],
  ])('%s is JSON without a level or timestamp', (line) => {
    expect(classifyLogLine(line)).toBe('json-incomplete');
  });

  it.each([
    ['listening on 8080'],
    ['[1,2]'],
    ['{not json}'],
    ['"a string"'],
    ['{"level":"info","time":1} trailing'],
  ])('%s is text', (line) => {
    expect(classifyLogLine(line)).toBe('text');
  });
});

describe('OutputCapture', () => {
  it('splits chunks into lines, counts kinds per stream, skips blank lines and keeps an interleaved tail', () => {
    const capture = new OutputCapture(3);
    capture.write('stdout', '{"level":"info","time":1,"msg":"a"}\n{"level":"info",');
    capture.write('stdout', '"time":2}\r\n\nplain text\n');
    capture.write('stderr', 'oops\n');
    capture.write('stdout', 'no newline at the end');
    capture.end('stdout');
    expect(capture.tally('stdout')).toEqual({
      lines: 4,
      structured: 2,
      jsonIncomplete: 0,
      text: 2,
      firstUnstructured: 'plain text',
    });
    expect(capture.tally('stderr')).toMatchObject({ lines: 1, text: 1, firstUnstructured: 'oops' });
    expect(capture.tail()).toEqual([
      { stream: 'stdout', line: 'plain text' },
      { stream: 'stderr', line: 'oops' },
      { stream: 'stdout', line: 'no newline at the end' },
    ]);
  });

  it("keeps the line that says what failed, however many lines follow: the kit's start failure, else Node's error message", () => {
    const capture = new OutputCapture(3);
    capture.write('stderr', 'Error: an earlier one, logged as text\n');
    capture.write('stderr', 'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string\n');
    capture.write(
      'stderr',
      '    at open (node:fs:1:1)\n  [cause]: Error: a cause is indented\n}\nNode.js v24.0.0\n',
    );
    expect(capture.failure()).toEqual({
      stream: 'stderr',
      line: 'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string',
    });

    const kit = new OutputCapture(3);
    const stack = `Error: Access denied\n${'    at frame\n'.repeat(40)}`;
    kit.write(
      'stdout',
      `${JSON.stringify({ level: 'error', time: 1, err: { stack }, msg: 'the start failed: Access denied' })}\n`,
    );
    kit.write('stderr', 'Error: Access denied\n    at frame\n}\nNode.js v24.0.0\n');
    expect(kit.failure()).toEqual({ stream: 'stdout', line: 'the start failed: Access denied' });
    expect(new OutputCapture().failure()).toBeUndefined();
  });

  it('bounds a line that never ends', () => {
    const capture = new OutputCapture();
    for (let i = 0; i < 5; i += 1) capture.write('stdout', 'x'.repeat(30_000));
    expect(capture.tally('stdout').lines).toBe(1); // 90 000 characters without a newline: cut at 64 KiB
    capture.end('stdout');
    expect(capture.tally('stdout').lines).toBe(2);
    expect(capture.tally('stdout').firstUnstructured).toHaveLength(160);
  });
});
