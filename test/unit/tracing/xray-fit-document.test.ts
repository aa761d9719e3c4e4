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
