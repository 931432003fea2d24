/**
 * A clock in nanoseconds, so latency code (metering, delay) can be tested with a fake one.
 * `nowNs` is monotonic; `sleep` resolves after at least `ns` nanoseconds.
 */
export interface Clock {
  nowNs(): number;
  sleep(ns: number): Promise<void>;
}

/** The platform clock: `performance.now()` exists in browsers, workers and Node alike. */
export const systemClock: Clock = {
  nowNs: () => Math.round(performance.now() * 1e6),
  sleep: (ns) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ns / 1e6))),
};
