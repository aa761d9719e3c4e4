import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isHeaderName, rawHeader } from '../../../src/http/raw-headers.js';

describe('isHeaderName', () => {
  it('matches a lower-case name in any case', () => {
    for (const raw of ['x-request-id', 'X-Request-Id', 'X-REQUEST-ID', 'x-ReQuEsT-iD'])
      expect(isHeaderName(raw, 'x-request-id')).toBe(true);
  });

  it('tells apart names that differ in a character, in length, or only once lower-cased by Unicode rules', () => {
    expect(isHeaderName('x-request-ie', 'x-request-id')).toBe(false);
    expect(isHeaderName('x-request-i', 'x-request-id')).toBe(false);
    expect(isHeaderName('x-request-idd', 'x-request-id')).toBe(false);
    // '[' is 0x5b, next to 'Z' (0x5a): not a letter, so it is not folded into '{'.
    expect(isHeaderName('[', '{')).toBe(false);
    // '@' (0x40) is not folded into '`' (0x60).
    expect(isHeaderName('@', '`')).toBe(false);
    // Kelvin sign: toLowerCase() makes it 'k'; header names are ASCII tokens, so it is no 'k'.
    expect(isHeaderName('\u212a', 'k')).toBe(false);
  });
});

describe('rawHeader', () => {
  it("returns the first value of a header, whatever its name's case", () => {
    const req = {
      rawHeaders: ['Host', 'a', 'User-Agent', 'curl/8', 'user-agent', 'second'],
    } as unknown as IncomingMessage;
    expect(rawHeader(req, 'user-agent')).toBe('curl/8');
    expect(rawHeader(req, 'x-forwarded-for')).toBeUndefined();
  });
});
