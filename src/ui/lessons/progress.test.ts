import { describe, expect, it } from 'vitest';
import { PROGRESS_KEY, advance, loadProgress, saveProgress, type KeyValueStore } from './progress.ts';

function memoryStore(initial?: string): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>(initial === undefined ? [] : [[PROGRESS_KEY, initial]]);
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('lesson progress', () => {
  it('round-trips through the store', () => {
    const store = memoryStore();
    const map = { cow: advance(undefined, 2, 6, 2) };
    saveProgress(store, map);
    expect(loadProgress(store)).toEqual({ cow: { step: 2, answered: [2], done: false } });
  });

  it('reads garbage, foreign shapes and a missing store as no progress', () => {
    expect(loadProgress(memoryStore('{not json'))).toEqual({});
    expect(loadProgress(memoryStore('[1,2]'))).toEqual({});
    expect(loadProgress(memoryStore(JSON.stringify({ a: { step: -1, answered: [], done: false }, b: { step: 1, answered: [0], done: true } })))).toEqual({ b: { step: 1, answered: [0], done: true } });
    expect(loadProgress(undefined)).toEqual({});
  });

  it('ignores a store that refuses writes', () => {
    const store: KeyValueStore = { getItem: () => null, setItem: () => { throw new Error('quota'); } };
    expect(() => saveProgress(store, {})).not.toThrow();
  });

  it('marks a lesson done past its last step and keeps answers', () => {
    const a = advance(undefined, 1, 3, 0);
    const b = advance(a, 3, 3);
    expect(b).toEqual({ step: 2, answered: [0], done: true });
    expect(advance(b, 0, 3).done).toBe(true);
    expect(advance(advance(a, 1, 3, 1), 1, 3, 0).answered).toEqual([0, 1]);
  });
});
