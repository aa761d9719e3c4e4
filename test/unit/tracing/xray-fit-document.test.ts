import { describe, expect, it } from 'vitest';
import type { XrayFields } from '../../../src/tracing/xray/attributes.js';
import { fitDocument, omittedAnnotation } from '../../../src/tracing/xray/fit-document.js';

const limit = 10_000;

/** A document as the SDK writes one: its fields, as JSON. */
function entity(fields: XrayFields & Record<string, unknown>) {
  const document: XrayFields & Record<string, unknown> = {
    id: '53995c3f42cd8ad8',
    name: 'notes-api',
    ...fields,
  };
  return { document, format: () => JSON.stringify(document) };
}

/** `format`, throwing past `max` calls: a step that never ends fails the test instead of hanging it. */
function failingAfter(max: number, format: () => string): () => string {
  let calls = 0;
  return () => {
    calls += 1;
    if (calls > max) throw new Error(`format() called ${calls} times: a step that never ends`);
    return format();
  };
}

function frames(count: number) {
  return Array.from({ length: count }, (_, i) => ({ path: `/app/src/f${i}.js`, line: i, label: `f${i}` }));
}

describe('fitDocument', () => {
  it('gives a document that fits as it is, nothing left out', () => {
    const { document, format } = entity({ metadata: { default: { ids: ['a'] } } });
    expect(fitDocument(document, format, limit)).toEqual({ document: format(), omitted: [] });
    expect(document.annotations).toBeUndefined();
  });

  it('leaves out the largest metadata values first, as many as it takes, and says so', () => {
    const { document, format } = entity({
      annotations: { note_id: '7' },
      metadata: {
        default: { ids: Array.from({ length: 2_000 }, (_, i) => `id-${i}`), small: 'kept' },
        'apprunner-kit': { links: [{ traceId: 'x' }] },
      },
    });

    const fitted = fitDocument(document, format, limit);

    expect(fitted?.omitted).toEqual(['metadata']);
    expect(Buffer.byteLength(fitted!.document)).toBeLessThanOrEqual(limit);
    expect(JSON.parse(fitted!.document)).toMatchObject({
      annotations: { note_id: '7', [omittedAnnotation]: 'metadata' },
      metadata: { default: { small: 'kept' }, 'apprunner-kit': { links: [{ traceId: 'x' }] } },
    });
  });

  it('then annotations, the largest first, keeping the marker', () => {
    const annotations: Record<string, string> = { route: '/orders' };
    for (let i = 0; i < 20; i++) annotations[`k${i}`] = 'v'.repeat(900);
    const { document, format } = entity({ annotations, metadata: { default: { big: 'x'.repeat(5_000) } } });

    const fitted = fitDocument(document, format, limit);

    expect(fitted?.omitted).toEqual(['metadata', 'annotations']);
    const written = JSON.parse(fitted!.document) as { annotations: Record<string, string> };
    expect(written.annotations).toMatchObject({
      route: '/orders',
      [omittedAnnotation]: 'metadata annotations',
    });
    expect(Object.keys(written.annotations).length).toBeGreaterThan(5); // not all of them
    expect(written).not.toHaveProperty('metadata');
  });

  it('then the exceptions’ stacks (counted in truncated), then their messages', () => {
    const exceptions = Array.from({ length: 8 }, (_, i) => ({
      id: `${i}`.repeat(16),
      type: 'Error',
      message: 'm'.repeat(2_000),
      stack: frames(10),
    }));
    const { document, format } = entity({ cause: { exceptions } });

    const fitted = fitDocument(document, format, limit);

    expect(fitted?.omitted).toEqual(['stacks', 'messages']);
    const written = JSON.parse(fitted!.document) as {
      cause: { exceptions: { message: string; truncated: number; stack?: unknown }[] };
      annotations: Record<string, string>;
    };
    expect(written.annotations[omittedAnnotation]).toBe('stacks messages');
    for (const exception of written.cause.exceptions) {
      expect(exception).not.toHaveProperty('stack');
      expect(exception.truncated).toBe(10);
      expect(exception.message).toBe(`${'m'.repeat(256)}… [1744 characters cut]`);
    }
  });

  it('cuts each message once, however many steps it takes (a cut message is longer than 256)', () => {
    const exceptions = Array.from({ length: 300 }, (_, i) => ({
      id: `${i}`.padStart(16, '0'),
      type: 'Error',
      message: `row ${i}: ${'bad value '.repeat(30)}`,
      stack: frames(5),
    }));
    const messages = exceptions.map((exception) => exception.message);
    const { document, format } = entity({ cause: { exceptions } });

    const fitted = fitDocument(document, failingAfter(100, format), limit);

    expect(fitted?.omitted).toEqual(['stacks', 'messages', 'exceptions']);
    const written = JSON.parse(fitted!.document) as { cause: { exceptions: { message: string }[] } };
    // A segment's: the newest, at the end, are kept.
    const kept = messages.slice(-written.cause.exceptions.length);
    written.cause.exceptions.forEach((exception, i) => {
      expect(exception.message).toBe(`${kept[i]!.slice(0, 256)}… [${kept[i]!.length - 256} characters cut]`);
    });
  });

  /** `count` exceptions with their stacks, `row i` for the i-th recorded. */
  function rows(count: number, order: 'newest last' | 'newest first') {
    return Array.from({ length: count }, (_, i) => {
      const row = order === 'newest last' ? i : count - 1 - i;
      return {
        id: `${row}`.padStart(16, '0'),
        type: 'Error',
        message: `row ${row}: bad value`,
        stack: frames(5),
      };
    });
  }

  /** Fits `fields`, too large for its exceptions alone; the document written and the ids it kept. */
  function fitExceptions(fields: XrayFields & Record<string, unknown>) {
    const { document, format } = entity(fields);

    const fitted = fitDocument(document, failingAfter(100, format), limit);

    expect(fitted?.omitted).toEqual(['stacks', 'exceptions']);
    expect(Buffer.byteLength(fitted!.document)).toBeLessThanOrEqual(limit);
    // Not many more were left out than it took.
    expect(Buffer.byteLength(fitted!.document)).toBeGreaterThan(limit - 1_000);
    const written = JSON.parse(fitted!.document) as {
      cause: { exceptions: { id: string; message: string }[] };
      annotations: Record<string, string>;
    };
    const kept = written.cause.exceptions.map((exception) => exception.id);
    expect(kept.length).toBeGreaterThan(50);
    return { written, kept };
  }

  it('then the oldest exceptions of a segment (the SDK adds its newest last), keeping the route’s error, counted in the marker', () => {
    const exceptions = rows(2_000, 'newest last');
    // Recorded last, as the request ends: the one a user looks for.
    exceptions.push({ id: 'f'.repeat(16), type: 'OrderError', message: 'import failed', stack: frames(5) });

    const { written, kept } = fitExceptions({
      trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      cause: { exceptions },
    });

    expect(kept).toEqual(exceptions.slice(-kept.length).map((exception) => exception.id));
    expect(written.cause.exceptions.at(-1)!.message).toBe('import failed');
    expect(written.annotations[omittedAnnotation]).toBe(`stacks exceptions:${2_001 - kept.length}`);
  });

  it('then the last exceptions of a subsegment (the SDK adds its newest first), keeping the first', () => {
    const exceptions = rows(2_000, 'newest first');

    const { written, kept } = fitExceptions({
      type: 'subsegment',
      parent_id: 'a'.repeat(16),
      cause: { exceptions },
    });

    expect(kept).toEqual(exceptions.slice(0, kept.length).map((exception) => exception.id));
    expect(written.cause.exceptions[0]!.message).toBe('row 1999: bad value');
    expect(written.annotations[omittedAnnotation]).toBe(`stacks exceptions:${2_000 - kept.length}`);
  });

  it('keeps the newest exception whatever it takes: a segment’s last, a subsegment’s first', () => {
    const open = [
      { id: 'a'.repeat(16), name: 'open', in_progress: true, sql: { query: 'q'.repeat(12_000) } },
    ];
    const segment = entity({
      cause: { exceptions: [{ message: 'retry failed' }, { message: 'db down' }] },
      subsegments: open,
    });
    const subsegment = entity({
      type: 'subsegment',
      cause: { exceptions: [{ message: 'db down' }, { message: 'retry failed' }] },
      subsegments: open,
    });

    expect(fitDocument(segment.document, failingAfter(100, segment.format), limit)).toBeUndefined();
    expect(fitDocument(subsegment.document, failingAfter(100, subsegment.format), limit)).toBeUndefined();

    expect(segment.document.cause!.exceptions).toEqual([{ message: 'db down' }]);
    expect(subsegment.document.cause!.exceptions).toEqual([{ message: 'db down' }]);
  });

  it('counts on when the same entity is fitted again, with more exceptions recorded since', () => {
    const exceptions = Array.from({ length: 300 }, (_, i) => ({
      id: `${i}`.padStart(16, '0'),
      message: 'x'.repeat(100),
    }));
    const { document, format } = entity({ cause: { exceptions } });
    const first = fitDocument(document, format, limit);
    document.cause!.exceptions!.push(...exceptions.slice(0, 50));

    const second = fitDocument(document, format, limit);

    expect(first?.omitted).toEqual(['exceptions']);
    expect(second?.omitted).toEqual(['exceptions']);
    expect(document.annotations![omittedAnnotation]).toBe(
      `exceptions:${350 - document.cause!.exceptions!.length}`,
    );
  });

  it('names what earlier calls left out when the same entity is fitted again', () => {
    const { document, format } = entity({ metadata: { default: { big: 'x'.repeat(12_000) } } });
    const first = fitDocument(document, format, limit);
    // Recorded since, while a subsegment was still open.
    document.cause = {
      exceptions: Array.from({ length: 20 }, (_, i) => ({ message: `${i}: ${'m'.repeat(1_000)}` })),
    };

    const second = fitDocument(document, format, limit);

    expect(first?.omitted).toEqual(['metadata']);
    expect(second?.omitted).toEqual(['messages']);
    expect(JSON.parse(second!.document).annotations).toEqual({ [omittedAnnotation]: 'metadata messages' });
  });

  it('stops at the first step that makes it fit', () => {
    const { document, format } = entity({
      metadata: { default: { big: 'x'.repeat(12_000) } },
      cause: { exceptions: [{ message: 'db down', stack: frames(3) }] },
    });
    const fitted = fitDocument(document, format, limit);
    expect(fitted?.omitted).toEqual(['metadata']);
    expect(JSON.parse(fitted!.document).cause.exceptions[0].stack).toHaveLength(3);
  });

  it('undefined when nothing it may leave out makes it fit (a large subsegment still open)', () => {
    const { document, format } = entity({
      metadata: { default: { big: 'x'.repeat(2_000) } },
      subsegments: [
        { id: 'a'.repeat(16), name: 'open', in_progress: true, sql: { query: 'q'.repeat(12_000) } },
      ],
    });
    expect(fitDocument(document, format, limit)).toBeUndefined();
  });
});
