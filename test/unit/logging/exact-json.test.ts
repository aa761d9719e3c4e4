import { describe, expect, it } from 'vitest';
import { mayHoldLongNumber, notJson, parseExact } from '../../../src/logging/exact-json.js';

describe('mayHoldLongNumber', () => {
  it('finds integers past 2^53, and not those below it nor long fractions', () => {
    expect(mayHoldLongNumber('{"id":9007199254740991,"ms":1767225600000}')).toBe(false);
    expect(mayHoldLongNumber('{"ids":[1000000000000005,8999999999999999]}')).toBe(false);
    expect(mayHoldLongNumber('{"ratio":0.30000000000000004,"p":1.2345678901234567e+25}')).toBe(false);
    expect(mayHoldLongNumber('{"id":9007199254740992}')).toBe(true);
    expect(mayHoldLongNumber('{"id":-12345678901234567}')).toBe(true);
    expect(mayHoldLongNumber('{"ids":[1,12345678901234567890123]}')).toBe(true);
  });
});

describe('parseExact', () => {
  it('keeps an integer past 2^53 as written, and reads a safe line as JSON.parse does', () => {
    expect(JSON.stringify(parseExact('{"a":12345678901234567890,"b":0.1}'))).toBe(
      '{"a":12345678901234567890,"b":0.1}',
    );
    expect(parseExact('{"a":[1,2.5,"x"]}')).toEqual({ a: [1, 2.5, 'x'] });
    expect(parseExact('{"a":')).toBe(notJson);
  });
});
