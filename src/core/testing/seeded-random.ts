/**
 * A seeded xorshift32 generator for tests: the same seed gives the same sequence on every run and
 * platform, so a failing random case can be replayed. Returns numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}
