import { describe, expect, it } from 'vitest';
import { parseTraceContext } from '../../../src/tracing/trace-header.js';

describe('parseTraceContext (tracer.span parent and links)', () => {
  it('reads an X-Amzn-Trace-Id value', () => {
    expect(
      parseTraceContext('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'),
    ).toMatchObject({
      root: '1-5759e988-bd862e3fe1be46a994272793',
      parent: '53995c3f42cd8ad8',
      sampled: '1',
    });
  });

  it('reads a W3C traceparent, its sampled flag included', () => {
    expect(parseTraceContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      root: '1-4bf92f35-77b34da6a3ce929d0e0e4736',
      parent: '00f067aa0ba902b7',
      sampled: '1',
      self: undefined,
      lineage: undefined,
    });
    expect(parseTraceContext('00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00')?.sampled).toBe('0');
  });

  it('refuses what is neither, never throwing', () => {
    for (const value of [
      '',
      'garbage',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      `Root=1-5759e988-bd862e3fe1be46a994272793;${'x'.repeat(2_000)}`,
      42,
      undefined,
    ]) {
      expect(parseTraceContext(value), String(value)).toBeUndefined();
    }
  });
});
