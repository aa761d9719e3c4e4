import { describe, expect, it } from 'vitest';
import { isPlainRequestId, isValidRequestId } from '../../../src/http/request-id.js';

describe('request ids', () => {
  it('adopts visible ASCII up to 128 characters, and calls plain only what needs no JSON escaping', () => {
    const cases: [string, boolean, boolean][] = [
      ['b3459ea7-daf0-469e-8b48-c1dd2b3cf298', true, true],
      ['Root=1-abc;!#$%&()*+,./:<=>?@[]^_`{|}~', true, true],
      ['a"b', true, false],
      ['a\\b', true, false],
      ['x'.repeat(128), true, true],
      ['x'.repeat(129), false, false],
      ['', false, false],
      ['has space', false, false],
      ['tab\there', false, false],
      ['é', false, false],
    ];
    for (const [id, valid, plain] of cases) {
      expect(isValidRequestId(id), id).toBe(valid);
      if (valid) expect(isPlainRequestId(id), id).toBe(plain);
    }
  });
});
