import { describe, expect, it } from 'vitest';
import {
  formatTraceHeader,
  fromHexTraceId,
  isTraceId,
  maxTraceHeaderLength,
  newSpanId,
  newTraceId,
  parseTraceHeader,
  toHexTraceId,
} from '../../../src/tracing/trace-header.js';

const root = '1-5759e988-bd862e3fe1be46a994272793';
const parent = '53995c3f42cd8ad8';

describe('parseTraceHeader, lenient', () => {
  it.each([
    ['keys in any case', `rOOt=${root};pArEnT=${parent};SAMPLED=1`, { root, parent, sampled: '1' }],
    [
      'spaces around keys and values',
      `  Root = ${root} ;  Parent= ${parent};Sampled =0 `,
      { root, parent, sampled: '0' },
    ],
    ['empty and trailing parts', `;;Root=${root};;;Sampled=?;;`, { root, parent: undefined, sampled: '?' }],
    ['Root only', `Root=${root}`, { root, parent: undefined, sampled: undefined }],
    ['Sampled=? asks the callee to decide', `Root=${root};Sampled=?`, { sampled: '?' }],
    [
      'Self= as an ALB adds it',
      `Self=1-67891233-abcdef012345678912345678;Root=${root}`,
      { self: '1-67891233-abcdef012345678912345678' },
    ],
    [
      'Lineage= as Lambda adds it',
      `Root=${root};Lineage=a87bd80c:1|68fd508a:5`,
      { lineage: 'a87bd80c:1|68fd508a:5' },
    ],
    ['unknown keys are ignored', `Foo=bar;Root=${root};x=;=y;Data=zzz`, { root }],
    [
      'upper-case hex is lowered',
      `Root=${root.toUpperCase()};Parent=${parent.toUpperCase()}`,
      { root, parent },
    ],
    ['the last Root wins', `Root=1-00000000-000000000000000000000001;Root=${root}`, { root }],
    ['a malformed second Root is ignored', `Root=${root}; Root=garbage`, { root }],
  ])('reads %s', (_case, header, expected) => {
    expect(parseTraceHeader(header)).toMatchObject(expected);
  });

  it.each([
    ['a bad Parent', `Root=${root};Parent=xyz`, { parent: undefined }],
    ['a short Parent', `Root=${root};Parent=53995c3f42cd8ad`, { parent: undefined }],
    ['a Parent of zeros (an invalid span id)', `Root=${root};Parent=0000000000000000`, { parent: undefined }],
    ['a bad Sampled', `Root=${root};Sampled=true`, { sampled: undefined }],
    ['a bad Self', `Root=${root};Self=nope`, { self: undefined }],
    ['a bad Lineage', `Root=${root};Lineage=${'a'.repeat(201)}`, { lineage: undefined }],
    ['a Lineage with spaces inside', `Root=${root};Lineage=a b`, { lineage: undefined }],
  ])('drops %s and keeps the trace', (_case, header, expected) => {
    expect(parseTraceHeader(header)).toMatchObject({ root, ...expected });
  });
});

describe('parseTraceHeader, malformed: a new trace', () => {
  it.each([
    undefined,
    '',
    ';;;',
    'garbage',
    root,
    'Root',
    'Root=',
    'Root=1-xyz-123',
    'Root=2-5759e988-bd862e3fe1be46a994272793',
    'Root=1-5759e98-8bd862e3fe1be46a994272793',
    'Root=1-5759e988-bd862e3fe1be46a99427279',
    'Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1', // an invalid trace id
    `Root=${root}x`,
    `Parent=${parent};Sampled=1`,
    `Root=${root};${'x'.repeat(maxTraceHeaderLength)}`,
    `Root="${root}"`,
    `Root=${root.replace('-', '_')}`,
  ])('%j', (header) => {
    expect(parseTraceHeader(header)).toBeUndefined();
  });
});

describe('formatTraceHeader', () => {
  it('writes the fields in X-Ray order, lower case', () => {
    expect(
      formatTraceHeader({
        root: root.toUpperCase(),
        parent: parent.toUpperCase(),
        sampled: '1',
        lineage: 'a87bd80c:1',
      }),
    ).toBe(`Root=${root};Parent=${parent};Sampled=1;Lineage=a87bd80c:1`);
    expect(formatTraceHeader({ root })).toBe(`Root=${root}`);
    expect(formatTraceHeader({ root, sampled: '?' })).toBe(`Root=${root};Sampled=?`);
  });

  it('never writes a malformed field', () => {
    expect(formatTraceHeader({ root, parent: 'nope', lineage: 'a b', sampled: 'x' as '1' })).toBe(
      `Root=${root}`,
    );
    expect(formatTraceHeader({ root: 'Root=1-abc' })).toBeUndefined();
    expect(formatTraceHeader({ root: `${root};Parent=${parent}` })).toBeUndefined();
  });

  it('round-trips through the parser', () => {
    const header = formatTraceHeader({ root, parent, sampled: '0', lineage: 'x:1' })!;
    expect(parseTraceHeader(header)).toEqual({ root, parent, sampled: '0', self: undefined, lineage: 'x:1' });
  });
});

describe('X-Ray trace ids', () => {
  it('are 1-{epoch seconds}-{96 random bits}', () => {
    const now = Date.UTC(2026, 10, 26, 4, 5, 18);
    const id = newTraceId(now);
    expect(id).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(Number.parseInt(id.slice(2, 10), 16)).toBe(Math.floor(now / 1000));
    expect(isTraceId(id)).toBe(true);
  });

  it('differ from each other, as span ids do', () => {
    const traces = new Set(Array.from({ length: 5_000 }, () => newTraceId()));
    const spans = new Set(Array.from({ length: 5_000 }, () => newSpanId()));
    expect(traces.size).toBe(5_000);
    expect(spans.size).toBe(5_000);
    for (const span of spans) expect(span).toMatch(/^[0-9a-f]{16}$/);
  });

  it('convert to and from the 32-hex-digit OpenTelemetry form', () => {
    expect(toHexTraceId(root)).toBe('5759e988bd862e3fe1be46a994272793');
    expect(fromHexTraceId('5759E988BD862E3FE1BE46A994272793')).toBe(root);
    expect(toHexTraceId('garbage')).toBeUndefined();
    expect(fromHexTraceId('00000000000000000000000000000000')).toBeUndefined();
    expect(fromHexTraceId('5759e988')).toBeUndefined();
  });
});

/** mulberry32: a small seeded PRNG, so a failing input can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pieces = [
  'Root=',
  'root',
  'Parent=',
  'Sampled=',
  'Self=',
  'Lineage=',
  ';',
  '=',
  ' ',
  '\t',
  '1-',
  '-',
  root,
  parent,
  '?',
  '0',
  '1',
  'ff',
  'Z',
  '\u0000',
  '\u00e9',
  '\ud83d\ude00',
  '\ud800',
  ':',
  '|',
  '"',
  ',',
  '\r\n',
  'x'.repeat(300),
];

describe('randomised headers', () => {
  it('never make the parser or the formatter throw, nor let a malformed field through', () => {
    const seed = 20_261_126;
    const random = prng(seed);
    for (let i = 0; i < 20_000; i++) {
      let header = '';
      const parts = Math.floor(random() * 12);
      for (let p = 0; p < parts; p++) {
        header +=
          random() < 0.8
            ? pieces[Math.floor(random() * pieces.length)]
            : String.fromCharCode(Math.floor(random() * 0x3000));
      }
      let parsed: ReturnType<typeof parseTraceHeader>;
      try {
        parsed = parseTraceHeader(header);
      } catch (error) {
        throw new Error(`seed ${seed}, input #${i} ${JSON.stringify(header)} threw: ${String(error)}`);
      }
      if (parsed === undefined) continue;
      expect(parsed.root, JSON.stringify(header)).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
      if (parsed.parent !== undefined) expect(parsed.parent).toMatch(/^[0-9a-f]{16}$/);
      const formatted = formatTraceHeader(parsed);
      expect(formatted, JSON.stringify(header)).toBeDefined();
      expect(formatted).toMatch(/^[\x21-\x7e]+$/);
      expect(parseTraceHeader(formatted)).toEqual({ ...parsed, self: undefined });
    }
  });
});
