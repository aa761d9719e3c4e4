import { describe, expect, it } from 'vitest';
import { dateClose } from '../../../src/cli/keep-alive-load.js';

/** Times in ms; `from` equals `at` when the checker ran freely. */
function timing(answerFrom: number, answerAt: number, closeFrom: number, closeAt: number) {
  return { answerFrom, answerAt, closeFrom, closeAt };
}

describe('dateClose', () => {
  it('dates what the checker handled as it came', () => {
    expect(dateClose(timing(1000, 1000, 1005, 1005))).toBe('at-once');
    expect(dateClose(timing(1000, 1000, 1250, 1250))).toBe('late');
  });

  it('dates a close handled after a hold-up that began within 200 ms of the answer and ended within it', () => {
    expect(dateClose(timing(1000, 1000, 1010, 1150))).toBe('at-once');
  });

  it('dates a close handled after a hold-up that began 200 ms or more after the answer as late', () => {
    expect(dateClose(timing(1000, 1000, 1200, 1900))).toBe('late');
  });

  it('cannot date a close handled after a hold-up from within the 200 ms to past them: 5 ms or 500 ms look alike', () => {
    expect(dateClose(timing(1000, 1000, 1003, 1600))).toBe('uncertain');
    expect(dateClose(timing(1000, 1000, 1199, 1201))).toBe('uncertain');
  });

  it('dates an answer and a close handled together after one hold-up by how long it lasted', () => {
    // Handled together at 1600: both came between 1000 and 1600, the close after the answer.
    expect(dateClose(timing(1000, 1600, 1000, 1601))).toBe('uncertain');
    // A hold-up of 150 ms: at most 150 ms apart.
    expect(dateClose(timing(1000, 1150, 1000, 1151))).toBe('at-once');
  });
});
