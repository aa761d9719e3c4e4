import { describe, expect, it } from 'vitest';
import { runWithRequestContext, sentTraceHeadersSlot } from '../../../src/http/context.js';
import {
  addPropagationHeaders,
  copiedTraceHeader,
  type PropagationHeader,
  propagationHeaders,
} from '../../../src/tracing/propagation.js';
import {
  boundedBaggage,
  boundedTraceState,
  formatTraceparent,
  parseTraceparent,
} from '../../../src/tracing/trace-header.js';
import { testRequestContext } from '../../support/request-context.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

describe('parseTraceparent (the traceparent request header)', () => {
  it('reads version 00, its sampled flag and no more, with the trace id in X-Ray form', () => {
    expect(parseTraceparent(`00-${traceId}-${spanId}-01`)).toEqual({
      root: '1-4bf92f35-77b34da6a3ce929d0e0e4736',
      parent: spanId,
      sampled: '1',
      self: undefined,
      lineage: undefined,
    });
    expect(parseTraceparent(`00-${traceId}-${spanId}-00`)?.sampled).toBe('0');
    // Flags other than sampled are carried by no one here, and do not unsample.
    expect(parseTraceparent(`00-${traceId}-${spanId}-03`)?.sampled).toBe('1');
    expect(parseTraceparent(` 00-${traceId}-${spanId}-02 `)?.sampled).toBe('0');
  });

  it('reads the first four fields of a later version, as W3C asks of a receiver', () => {
    expect(parseTraceparent(`01-${traceId}-${spanId}-01`)?.parent).toBe(spanId);
    expect(parseTraceparent(`cc-${traceId}-${spanId}-01-what-comes-next`)?.parent).toBe(spanId);
  });

  it.each([
    ['version ff', `ff-${traceId}-${spanId}-01`],
    ['version 00 with more after its flags', `00-${traceId}-${spanId}-01-extra`],
    ['a later version with no dash after its flags', `01-${traceId}-${spanId}-01x`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero parent id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['upper-case hex (W3C: lower case only)', `00-${traceId.toUpperCase()}-${spanId}-01`],
    ['a short trace id', `00-${traceId.slice(1)}-${spanId}-01`],
    ['an X-Amzn-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8'],
    ['an empty value', ''],
    // A later version may carry more after its flags: only the length guard refuses this one.
    ['a value past the length parsed', `cc-${traceId}-${spanId}-01-${'x'.repeat(2_000)}`],
  ])('refuses %s', (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe('formatTraceparent', () => {
  it('writes version 00 from an X-Ray trace id, and refuses malformed ids', () => {
    expect(formatTraceparent('1-4bf92f35-77b34da6a3ce929d0e0e4736', spanId, true)).toBe(
      `00-${traceId}-${spanId}-01`,
    );
    expect(formatTraceparent('1-4BF92F35-77B34DA6A3CE929D0E0E4736', spanId.toUpperCase(), false)).toBe(
      `00-${traceId}-${spanId}-00`,
    );
    expect(formatTraceparent('1-4bf92f35-77b34da6', spanId, true)).toBeUndefined();
    expect(formatTraceparent('1-4bf92f35-77b34da6a3ce929d0e0e4736', 'zz', true)).toBeUndefined();
  });

  it('round-trips through parseTraceparent', () => {
    const header = parseTraceparent(`00-${traceId}-${spanId}-01`)!;
    expect(formatTraceparent(header.root, header.parent!, header.sampled === '1')).toBe(
      `00-${traceId}-${spanId}-01`,
    );
  });
});

describe('boundedTraceState', () => {
  it('keeps the members as received, blank ones left out', () => {
    expect(boundedTraceState('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE')).toBe(
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    );
    expect(boundedTraceState(' , rojo=1 ,, fw529a3039@dt=x y ,')).toBe('rojo=1,fw529a3039@dt=x y');
    expect(boundedTraceState(' , ')).toBeUndefined();
  });

  it.each([
    ['a key twice', 'rojo=1,congo=2,rojo=3'],
    ['an upper-case key', 'Rojo=1'],
    ['a key with a character W3C does not allow', 'ro.jo=1'],
    ['a member with no key', '=1'],
    ['a member with no value', 'rojo='],
    ['a value with =', 'rojo=a=b'],
    ['more than 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('discards the whole header for %s, as W3C says', (_, raw) => {
    expect(boundedTraceState(raw)).toBeUndefined();
  });

  it('keeps 32 members', () => {
    const members = Array.from({ length: 32 }, (_, i) => `k${i}=v`);
    expect(boundedTraceState(members.join(','))).toBe(members.join(','));
  });

  it('past 512 characters, drops members over 128 characters first, then members from the end', () => {
    const long = `big=${'x'.repeat(200)}`;
    const small = Array.from({ length: 15 }, (_, i) => `key${i}=${'v'.repeat(20)}`);
    const bounded = boundedTraceState([small[0], long, ...small.slice(1)].join(','))!;
    expect(bounded).toBe(small.join(','));
    const many = Array.from({ length: 30 }, (_, i) => `key${i}=${'v'.repeat(20)}`);
    const cut = boundedTraceState(many.join(','))!;
    expect(cut.length).toBeLessThanOrEqual(512);
    // 10 members of 25 characters, 9 of 26, and the commas: 502.
    expect(cut).toBe(many.slice(0, 19).join(','));
  });
});

describe('boundedBaggage', () => {
  it('keeps the members as received, with their properties, blank ones left out', () => {
    expect(boundedBaggage('tenant=acme, plan = gold ; tier=1;flag,,user=J%C3%B6rg')).toBe(
      'tenant=acme,plan = gold ; tier=1;flag,user=J%C3%B6rg',
    );
    expect(boundedBaggage('empty=')).toBe('empty=');
    expect(boundedBaggage(' , ')).toBeUndefined();
  });

  it.each([
    ['a key with a space', 'key with space=1'],
    ['a member with no =', 'tenant'],
    ['a value with a space', 'tenant=a b'],
    ['a value with a double quote', 'tenant="acme"'],
    ['a value with a backslash', 'tenant=a\\b'],
    ['more than 180 members', Array.from({ length: 181 }, (_, i) => `k${i}=v`).join(',')],
    ['more than 8,192 characters', `a=${'x'.repeat(8_191)}`],
  ])('drops the whole header for %s', (_, raw) => {
    expect(boundedBaggage(raw)).toBeUndefined();
  });

  it('takes spaces and tabs around each separator; a ; with no property after it breaks the grammar', () => {
    expect(boundedBaggage('k\t=\tv\t;\tp\t=\t1 ; flag')).toBe('k\t=\tv\t;\tp\t=\t1 ; flag');
    expect(boundedBaggage('k=v;')).toBeUndefined();
    expect(boundedBaggage('k=v; ;p')).toBeUndefined();
    expect(boundedBaggage('k=v;p=a b')).toBeUndefined();
  });

  it('rejects a short hostile header at once (it took the pattern of one member seconds)', () => {
    // Tabs after each `;p=`, then a character no value may hold: 8 segments blocked the event loop
    // 2 s, 10 segments 197 s, every request of such a client.
    const hostile = `k=${'\t'.repeat(8).concat(';p=').repeat(8)}"`;
    const started = performance.now();
    expect(boundedBaggage(hostile)).toBeUndefined();
    expect(boundedBaggage(`${hostile.slice(0, -1)}v`)).toBe(`${hostile.slice(0, -1)}v`);
    // Not a benchmark: linear, it takes microseconds; the former pattern took seconds (20 s on a busy
    // machine), and a bound this wide only tells the two apart.
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('propagationHeaders (the X-Ray SDK backend)', () => {
  const span = {
    traceId: '1-4bf92f35-77b34da6a3ce929d0e0e4736',
    spanId,
    sampled: true,
    lineage: undefined,
    received: { tracestate: 'rojo=1', baggage: 'tenant=acme' },
  };

  it('writes each propagator of the list, in its order', () => {
    expect(propagationHeaders(['tracecontext', 'baggage', 'xray'], span)).toEqual([
      ['traceparent', `00-${traceId}-${spanId}-01`],
      ['tracestate', 'rojo=1'],
      ['baggage', 'tenant=acme'],
      ['x-amzn-trace-id', `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${spanId};Sampled=1`],
    ]);
    expect(propagationHeaders(['xray'], { ...span, sampled: false, lineage: 'a87bd80c:1' })).toEqual([
      [
        'x-amzn-trace-id',
        `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${spanId};Sampled=0;Lineage=a87bd80c:1`,
      ],
    ]);
    expect(propagationHeaders([], span)).toEqual([]);
  });

  it('writes no tracestate or baggage it did not receive', () => {
    expect(propagationHeaders(['tracecontext', 'baggage'], { ...span, received: undefined })).toEqual([
      ['traceparent', `00-${traceId}-${spanId}-01`],
    ]);
  });
});

describe('addPropagationHeaders', () => {
  const headers: PropagationHeader[] = [
    ['traceparent', `00-${traceId}-${spanId}-01`],
    ['tracestate', 'rojo=1'],
    ['baggage', 'tenant=acme'],
    ['x-amzn-trace-id', 'Root=1-4bf92f35-77b34da6a3ce929d0e0e4736'],
  ];
  const run = (callers: Record<string, string>) => {
    const set: Record<string, string> = {};
    addPropagationHeaders(
      headers,
      (name) => callers[name],
      (name, value) => {
        set[name] = value;
      },
    );
    return set;
  };

  it('sets every header the caller did not set', () => {
    expect(run({})).toEqual(Object.fromEntries(headers));
    expect(Object.keys(run({ baggage: 'mine' }))).toEqual(['traceparent', 'tracestate', 'x-amzn-trace-id']);
  });

  it('adds no trace header of its own after a trace header of the caller’s: the request would name two traces', () => {
    expect(Object.keys(run({ traceparent: 'mine' }))).toEqual(['baggage']);
    expect(Object.keys(run({ 'x-amzn-trace-id': 'mine' }))).toEqual(['baggage']);
  });

  it("takes the kit's own header of an earlier call of the request for a copy: replaced, not the caller's", () => {
    // Arrange: a request that made a call (superagent then copies its headers onto the redirect's).
    const context = testRequestContext('req-1');
    const earlier: PropagationHeader[] = [['traceparent', `00-${traceId}-b7ad6b7169203331-01`]];
    const later: PropagationHeader[] = [['traceparent', `00-${traceId}-${spanId}-01`]];
    const set: Record<string, string> = {};
    const send = (kit: readonly PropagationHeader[], callers: Record<string, string>) =>
      addPropagationHeaders(
        kit,
        (name) => callers[name],
        (name, value) => {
          set[name] = value;
        },
      );

    // Act
    runWithRequestContext(context, () => {
      send(earlier, {});
      send(later, { traceparent: earlier[0]![1] });
    });

    // Assert
    expect(set.traceparent).toBe(later[0]![1]);
    expect(copiedTraceHeader(earlier[0]![1])).toBe(false); // outside the request that sent it
  });

  it('remembers the latest 256 to 512 values a request sent, and nothing for a request that sent none', () => {
    const one = testRequestContext('req-one');
    const busy = testRequestContext('req-busy');
    const value = (i: number) => `00-${traceId}-${i.toString(16).padStart(16, '0')}-01`;
    runWithRequestContext(one, () => run({}));
    expect([...one[sentTraceHeadersSlot]!.latest]).toEqual([headers[0]![1], headers[3]![1]]);

    const none = testRequestContext('req-none');
    runWithRequestContext(none, () => copiedTraceHeader(value(1)));
    expect(none[sentTraceHeadersSlot]).toBeUndefined();

    runWithRequestContext(busy, () => {
      const send = (from: number, to: number) => {
        for (let i = from; i <= to; i++) {
          addPropagationHeaders(
            [['traceparent', value(i)]],
            () => undefined,
            () => {},
          );
        }
      };
      send(1, 512);
      expect(copiedTraceHeader(value(1))).toBe(true);
      expect(copiedTraceHeader(value(512))).toBe(true);
      send(513, 513); // a third set begun: the first 256 forgotten
      expect(copiedTraceHeader(value(256))).toBe(false);
      expect(copiedTraceHeader(value(257))).toBe(true);
      expect(copiedTraceHeader(value(513))).toBe(true);
      const { latest, older } = busy[sentTraceHeadersSlot]!;
      expect([latest.size, older?.size]).toEqual([1, 256]);
    });
  });
});
