import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.ts';

describe('ManualClock', () => {
  it('moves only when advanced, waking sleepers in deadline order at their deadlines', async () => {
    const clock = new ManualClock(1000);
    const woke: [string, number][] = [];
    void clock.sleep(300).then(() => woke.push(['b', clock.nowNs()]));
    void clock.sleep(100).then(() => woke.push(['a', clock.nowNs()]));
    void clock.sleep(500).then(() => woke.push(['c', clock.nowNs()]));
    expect(clock.pendingSleeps).toBe(3);
    await clock.advance(299);
    expect(woke).toEqual([['a', 1100]]);
    expect(clock.nowNs()).toBe(1299);
    await clock.advance(1);
    expect(woke).toEqual([['a', 1100], ['b', 1300]]);
    await clock.advanceToNext();
    expect(woke.at(-1)).toEqual(['c', 1500]);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('runs chains of sleeps started inside the advanced window', async () => {
    const clock = new ManualClock();
    let done = -1;
    void (async () => {
      await clock.sleep(10);
      await clock.sleep(10);
      done = clock.nowNs();
    })();
    await clock.advance(25);
    expect(done).toBe(20);
    expect(clock.nowNs()).toBe(25);
  });

  it('treats negative and non-finite sleeps as zero', async () => {
    const clock = new ManualClock();
    let woke = 0;
    void clock.sleep(-5).then(() => woke++);
    void clock.sleep(Number.NaN).then(() => woke++);
    await clock.advance(0);
    expect(woke).toBe(2);
  });
});
