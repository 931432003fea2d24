import { afterEach, describe, expect, it } from 'vitest';
import { expose, wrap, type Endpoint } from 'comlink';
import { registerErrorHandlers, rebuildError, serializeError } from './comlink-errors.ts';
import { DiskConfigError, DiskError } from '../src/core/disk/errors.ts';
import { ControllerStatsWriter, initStats, readControllerStats, statsBytes } from '../src/core/controller/stats.ts';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** A worker API and its page-side proxy over a MessageChannel: the same Comlink path as a Worker. */
function connect<T extends object>(api: T) {
  registerErrorHandlers();
  const channel = new MessageChannel();
  channels.push(channel);
  expose(api, channel.port1 as unknown as Endpoint);
  return wrap<T>(channel.port2 as unknown as Endpoint);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('the Comlink error handler', () => {
  it('delivers a DiskError with its code, LBA, field and cause chain as a real DiskError', async () => {
    const remote = connect({
      read() {
        const root = new TypeError('socket closed');
        const mid = new DiskError('NETWORK', 'range request failed', { cause: root });
        throw new DiskError('OUT_OF_RANGE', 'read of 1 sector(s) at LBA 99 is beyond the end', { lba: 99, field: 'lba', cause: mid });
      },
    });
    const e = await rejection(remote.read());
    expect(e).toBeInstanceOf(DiskError);
    const d = e as DiskError;
    expect([d.code, d.lba, d.field, d.message]).toEqual(['OUT_OF_RANGE', 99, 'lba', 'read of 1 sector(s) at LBA 99 is beyond the end']);
    expect(d.cause).toBeInstanceOf(DiskError);
    expect((d.cause as DiskError).code).toBe('NETWORK');
    const root = (d.cause as DiskError).cause as Error;
    expect([root.name, root.message]).toEqual(['TypeError', 'socket closed']);
    expect(d.stack).toContain('thrown in the worker');
  });

  it('delivers a DiskConfigError with problem, field, layer index and a cloneable value', async () => {
    const remote = connect({
      async open() {
        throw new DiskConfigError('SIZE_MISMATCH', 'sectorCount', 'layer 1 has 10 sectors', { value: 10, layerIndex: 1 });
      },
    });
    const e = await rejection(remote.open());
    expect(e).toBeInstanceOf(DiskConfigError);
    expect(e).toMatchObject({ problem: 'SIZE_MISMATCH', field: 'sectorCount', layerIndex: 1, value: 10, message: 'layer 1 has 10 sectors' });
  });

  it('drops a value that cannot be cloned instead of failing the whole reply', () => {
    const wire = serializeError(new DiskConfigError('INVALID_PARAMETER', 'clock', 'bad clock', { value: () => 1 }));
    expect(() => structuredClone(wire)).not.toThrow();
    const back = rebuildError(structuredClone(wire)) as DiskConfigError;
    expect(back).toBeInstanceOf(DiskConfigError);
    expect(back.value).toBeUndefined();
  });

  it('keeps other errors and thrown values recognisable', async () => {
    const remote = connect({
      range() {
        throw new RangeError('nope');
      },
      odd() {
        throw { reason: 'plain object' };
      },
      weird() {
        throw Symbol('x');
      },
    });
    const r = (await rejection(remote.range())) as Error;
    expect([r.name, r.message]).toEqual(['RangeError', 'nope']);
    expect(await rejection(remote.odd())).toEqual({ reason: 'plain object' });
    expect(await rejection(remote.weird())).toBe('Symbol(x)');
  });

  it('maps an unknown code from another version to IO rather than inventing one', () => {
    const back = rebuildError({ kind: 'disk', code: 'FLOOD' as never, message: 'm', causes: [] }) as DiskError;
    expect(back.code).toBe('IO');
  });

  it('stops a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const wire = serializeError(new DiskError('IO', 'top', { cause: b }));
    expect(wire.kind === 'disk' && wire.causes.map((c) => c.message)).toEqual(['b', 'a']);
  });

  it('does not touch successful replies', async () => {
    const remote = connect({ add: (a: number, b: number) => a + b });
    expect(await remote.add(2, 3)).toBe(5);
  });
});

describe('the Comlink stats handler', () => {
  it('delivers a controller stats snapshot with working latency histograms', async () => {
    const buffer = new SharedArrayBuffer(statsBytes(2));
    initStats(buffer, 2);
    const writer = new ControllerStatsWriter(buffer);
    for (let i = 1; i <= 100; i++) {
      writer.fetched(1, 0);
      writer.completed(1, 0, 0, 4096, i * 1000, { lba: i, cid: i, opcode: 2 });
    }
    const remote = connect({ stats: () => readControllerStats(buffer) });
    const s = await remote.stats();
    expect(s.queues[1]!.completed).toBe(100);
    expect(s.ops.read.ops).toBe(100);
    expect(s.ops.read.latency.count).toBe(100);
    expect(s.ops.read.latency.percentile(50)).toBeCloseTo(50_000, -3);
    expect(s.ops.write.latency.count).toBe(0);
  });
});
