import { describe, expect, it } from 'vitest';
import { DEFAULT_FORM, PRESETS, toJob } from './job-form.ts';

describe('job form', () => {
  it('turns the presets into jobs', () => {
    const names = PRESETS.map((p) => p.name);
    expect(names).toEqual(['4k random read QD32', 'sequential 1M write', 'verify']);
    const qd32 = toJob(PRESETS[0]!.form, 'a');
    expect(qd32).toMatchObject({ ok: true, job: { rw: 'randread', bs: 4096, iodepth: 32, runtimeNs: 3e9 }, options: { queues: 1, depth: 32 } });
    const seq = toJob(PRESETS[1]!.form, 'b');
    expect(seq).toMatchObject({ ok: true, job: { rw: 'write', bs: 1048576, iodepth: 4 } });
    expect(seq.ok ? seq.job.runtimeNs : 'bad').toBeUndefined();
    expect(toJob(PRESETS[2]!.form, 'c')).toMatchObject({ ok: true, job: { rw: 'randwrite', verify: true, queues: 2 }, options: { queues: 2, depth: 16 } });
  });

  it('sizes guest memory for every buffer in flight', () => {
    const r = toJob({ ...DEFAULT_FORM, bs: '1M', iodepth: '32', queues: '2' }, 'x');
    expect(r.ok && r.options.guestMemoryBytes).toBe(128 * 1024 * 1024);
  });

  it('names the first bad field', () => {
    expect(toJob({ ...DEFAULT_FORM, bs: 'big' }, 'x')).toMatchObject({ ok: false, field: 'bs' });
    expect(toJob({ ...DEFAULT_FORM, iodepth: '0' }, 'x')).toMatchObject({ ok: false, field: 'iodepth' });
    expect(toJob({ ...DEFAULT_FORM, runtime: '-1' }, 'x')).toMatchObject({ ok: false, field: 'runtime' });
    expect(toJob({ ...DEFAULT_FORM, size: '12q' }, 'x')).toMatchObject({ ok: false, field: 'size' });
  });
});
