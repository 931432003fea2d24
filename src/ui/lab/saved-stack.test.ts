import { describe, expect, it } from 'vitest';
import type { OverlaySpec } from '../../../workers/api.ts';
import { restorePlan, withPersistentDiff } from './saved-stack.ts';

describe('restorePlan', () => {
  it('re-adds every overlay at once when there is no encryption layer', () => {
    const overlays: OverlaySpec[] = [{ kind: 'ram-diff' }, { kind: 'delay', readUs: 10, writeUs: 20 }];
    expect(restorePlan(overlays)).toEqual({ now: overlays, after: [] });
    expect(restorePlan(undefined)).toEqual({ now: [], after: [] });
  });

  it('holds back the first encryption layer and what is above it until the secret is given', () => {
    const crypt: OverlaySpec = { kind: 'crypt', key: 'passphrase' };
    const overlays: OverlaySpec[] = [{ kind: 'ram-diff' }, crypt, { kind: 'delay', readUs: 1, writeUs: 2 }, { kind: 'fault', rules: [] }];
    const plan = restorePlan(overlays);
    expect(plan.now).toEqual([{ kind: 'ram-diff' }]);
    expect(plan.crypt).toEqual(crypt);
    expect(plan.after).toEqual(overlays.slice(2));
  });
});

describe('withPersistentDiff', () => {
  it('puts a persistent layer on top in place of the top RAM layers', () => {
    const spec = withPersistentDiff({ kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: 8 } }] }, 'x.diff');
    expect(spec).toEqual({ kind: 'layered', layers: [{ kind: 'persistent-layer', name: 'x.diff' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: 8 } }] });
  });
});
