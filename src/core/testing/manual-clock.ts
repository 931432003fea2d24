/**
 * ManualClock: a Clock whose time moves only when told to, so delay and metering can be tested
 * (and demonstrated) without real sleeping.
 *
 * `sleep(ns)` returns a promise that resolves once `advance` has moved time to or past its deadline.
 * `advance` wakes sleepers in deadline order, setting the clock to each deadline before waking it,
 * and lets the woken code run (its promise continuations, including any new sleeps it starts inside
 * the window) before moving on, so a chain "sleep, then do I/O, then sleep" advances as it would on
 * a real clock. Negative or non-finite durations are treated as zero.
 */
import type { Clock } from '../ports/clock.ts';

interface Sleeper {
  readonly deadline: number;
  readonly seq: number;
  readonly wake: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #sleepers: Sleeper[] = [];

  constructor(startNs = 0) {
    this.#now = startNs;
  }

  nowNs(): number {
    return this.#now;
  }

  sleep(ns: number): Promise<void> {
    const d = Number.isFinite(ns) && ns > 0 ? ns : 0;
    return new Promise((resolve) => {
      this.#sleepers.push({ deadline: this.#now + d, seq: this.#seq++, wake: resolve });
    });
  }

  /** Sleeps not yet woken. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by `ns`, waking every sleeper whose deadline falls inside. */
  async advance(ns: number): Promise<void> {
    const target = this.#now + Math.max(0, ns);
    await settle();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.deadline > target) break;
      this.#sleepers.splice(this.#sleepers.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.deadline);
      next.wake();
      await settle();
    }
    this.#now = target;
  }

  /** Advances to the next deadline (if any), waking everything due then. */
  async advanceToNext(): Promise<void> {
    await settle();
    const next = this.#earliest();
    if (next !== undefined) await this.advance(next.deadline - this.#now);
  }

  #earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (best === undefined || s.deadline < best.deadline || (s.deadline === best.deadline && s.seq < best.seq)) best = s;
    }
    return best;
  }
}

/** Lets every queued promise continuation run: a macrotask turn drains the microtask queue. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
