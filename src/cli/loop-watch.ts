/** How often the watch's timer turns while it runs. */
const turnMs = 10;
/** A turn this much later than due means the loop (or the whole process) was held up meanwhile. */
const lateMs = 50;

/**
 * Watches the checker's own event loop, to tell how early an event it handles now may have happened.
 * On a busy machine the checker may be held up (its process not scheduled, or its loop busy) for
 * hundreds of milliseconds: what arrived meanwhile (a connection's close) is handled only after,
 * and a time read when handling it is late by as much. A timer that turns every few milliseconds
 * shows when the loop last ran freely: an event handled after a hold-up may date from its start.
 */
export class LoopWatch {
  #timer: NodeJS.Timeout | undefined;
  /** The last turn of the timer (`performance.now()`). */
  #lastTurn = 0;
  /** The last hold-up the timer saw: from the turn before it to the late turn that ended it. */
  #lastHoldUp: { readonly from: number; readonly to: number } | undefined;

  /** Starts the timer; safe to call twice. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastTurn = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      if (now - this.#lastTurn > turnMs + lateMs) this.#lastHoldUp = { from: this.#lastTurn, to: now };
      this.#lastTurn = now;
    }, turnMs);
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The earliest time an event handled at `now` may have happened: `now`, unless the loop was held
   * up just before; then the start of that hold-up. Two cases: the hold-up is still under way as far
   * as the timer knows (it has not turned for a while: the loop handles I/O before its timers), or
   * the timer's late turn that ended it came just before.
   */
  earliest(now: number): number {
    if (this.#timer === undefined) return now;
    if (now - this.#lastTurn > turnMs + lateMs) return this.#lastTurn;
    const holdUp = this.#lastHoldUp;
    return holdUp !== undefined && now - holdUp.to <= turnMs + lateMs ? holdUp.from : now;
  }
}
