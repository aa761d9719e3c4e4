import { describe, expect, it } from 'vitest';
import { parseTraceHeader } from '../../../src/tracing/trace-header.js';

const root = '1-5759e988-bd862e3fe1be46a994272793';

describe('parseTraceHeader', () => {
  it('reads every field of a full header', () => {
    expect(
      parseTraceHeader(
        `Root=${root};Parent=53995c3f42cd8ad8;Sampled=1;Self=1-67891233-abcdef012345678912345678;Lineage=a87bd80c:1`,
      ),
    ).toEqual({
      root,
      parent: '53995c3f42cd8ad8',
      sampled: '1',
      self: '1-67891233-abcdef012345678912345678',
      lineage: 'a87bd80c:1',
    });
  });

  it.each([
    [`root=${root.toUpperCase()}`, { root }],
    [` Root = ${root} ; ; Sampled=? ;`, { root, sampled: '?' }],
    [`Foo=bar;Root=${root};Parent=zz;Sampled=yes`, { root, parent: undefined, sampled: undefined }],
    [`ROOT=${root};PARENT=53995C3F42CD8AD8`, { root, parent: '53995c3f42cd8ad8' }],
  ])('is lenient with %j', (header, expected) => {
    expect(parseTraceHeader(header)).toMatchObject(expected);
  });

  it.each([
    undefined,
    '',
    'garbage',
    'Root=1-xyz-123',
    'Root=2-5759e988-bd862e3fe1be46a994272793',
    `Root=${root}x`,
    `Root=${root};${'x'.repeat(2000)}`,
  ])('starts a new trace for %j', (header) => {
    expect(parseTraceHeader(header)).toBeUndefined();
  });
});
