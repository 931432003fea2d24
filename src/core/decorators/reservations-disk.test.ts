import { describe, expect, it } from 'vitest';
import { ReservationsDisk, accessAllowed } from './reservations-disk.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { RESERVATION_TYPES, type PersistentReservations, type ReservationType } from '../disk/reservations.ts';
import type { Disk } from '../disk/disk.ts';

describeDiskConformance({
  name: 'ReservationsDisk host view (no reservation) over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new ReservationsDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 })).forHost('a'),
});

describeDiskConformance({
  name: 'ReservationsDisk host view holding exclusive access over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) => {
    const shared = new ReservationsDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 }));
    const a = shared.forHost('a');
    await a.reservations!.register(0n, 1n);
    await a.reservations!.reserve(1n, 'exclusive-access');
    await shared.forHost('b').reservations!.register(0n, 2n); // a registrant that is not the holder
    return a;
  },
});

const pr = (d: Disk): PersistentReservations => d.reservations!;

function setup() {
  const ram = new RamDisk({ sectors: 64 });
  const shared = new ReservationsDisk(ram);
  return { ram, shared, a: shared.forHost('a'), b: shared.forHost('b'), c: shared.forHost('c') };
}

type Role = 'holder' | 'registrant' | 'unregistered';
/** SPC-5's table, written out by hand: [read allowed, write allowed] per role. */
const EXPECTED: Record<ReservationType, Record<Role, [boolean, boolean]>> = {
  'write-exclusive': { holder: [true, true], registrant: [true, false], unregistered: [true, false] },
  'exclusive-access': { holder: [true, true], registrant: [false, false], unregistered: [false, false] },
  'write-exclusive-registrants-only': { holder: [true, true], registrant: [true, true], unregistered: [true, false] },
  'exclusive-access-registrants-only': { holder: [true, true], registrant: [true, true], unregistered: [false, false] },
  'write-exclusive-all-registrants': { holder: [true, true], registrant: [true, true], unregistered: [true, false] },
  'exclusive-access-all-registrants': { holder: [true, true], registrant: [true, true], unregistered: [false, false] },
};

async function allowed(p: Promise<void>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (e) {
    await expectDiskError(Promise.reject(e), 'RESERVATION_CONFLICT');
    return false;
  }
}

describe('ReservationsDisk access checks', () => {
  for (const type of RESERVATION_TYPES) {
    for (const role of ['holder', 'registrant', 'unregistered'] as const) {
      it(`${type}: a ${role} may ${EXPECTED[type][role][0] ? '' : 'not '}read and may ${EXPECTED[type][role][1] ? '' : 'not '}write`, async () => {
        const { ram, a, b, c } = setup();
        await pr(a).register(0n, 0xaan);
        await pr(b).register(0n, 0xbbn);
        await pr(a).reserve(0xaan, type);
        const host = { holder: a, registrant: b, unregistered: c }[role];
        const [mayRead, mayWrite] = EXPECTED[type][role];
        await ram.write(3, pattern(512, 1));
        const got = new Uint8Array(512);
        expect(await allowed(host.read(3, got))).toBe(mayRead);
        if (mayRead) expectSameBytes(got, pattern(512, 1));
        expect(await allowed(host.write(3, pattern(512, 2)))).toBe(mayWrite);
        expect(await allowed(host.unmap(3, 1))).toBe(mayWrite);
        expect(await allowed(host.flush())).toBe(mayWrite);
        const after = new Uint8Array(512);
        await ram.read(3, after);
        if (!mayWrite) expectSameBytes(after, pattern(512, 1), 'a refused write changes nothing');
        expect(accessAllowed(type, role === 'registrant' && type.endsWith('all-registrants') ? 'holder' : role, 'read')).toBe(mayRead);
      });
    }
  }

  it('lets everyone do everything when nothing is reserved, even with registrations', async () => {
    const { a, c } = setup();
    await pr(a).register(0n, 1n);
    for (const host of [a, c]) {
      await host.write(0, pattern(512, 1));
      await host.read(0, new Uint8Array(512));
      await host.unmap(0, 1);
      await host.flush();
    }
  });
});

describe('ReservationsDisk REGISTER', () => {
  it('registers, re-keys and unregisters, bumping PRgeneration each time', async () => {
    const { shared, a, b } = setup();
    await pr(a).register(0n, 10n);
    await pr(b).register(0n, 20n);
    await pr(a).register(10n, 11n);
    expect(await pr(b).report()).toEqual({
      generation: 3,
      registrations: [{ hostId: 'a', key: 11n }, { hostId: 'b', key: 20n }],
      reservation: undefined,
    });
    await pr(a).register(11n, 0n);
    expect(shared.report().registrations).toEqual([{ hostId: 'b', key: 20n }]);
    expect(shared.report().generation).toBe(4);
  });

  it('refuses a wrong old key with RESERVATION_CONFLICT unless ignoring the existing key', async () => {
    const { shared, a } = setup();
    await expectDiskError(pr(a).register(5n, 6n), 'RESERVATION_CONFLICT'); // unregistered, non-zero old key
    await pr(a).register(0n, 6n);
    await expectDiskError(pr(a).register(7n, 8n), 'RESERVATION_CONFLICT');
    await expectDiskError(pr(a).register(0n, 8n), 'RESERVATION_CONFLICT');
    expect(shared.report().generation).toBe(1);
    await pr(a).register(999n, 8n, { ignoreExisting: true });
    expect(shared.report().registrations).toEqual([{ hostId: 'a', key: 8n }]);
    await pr(shared.forHost('z')).register(123n, 9n, { ignoreExisting: true });
    expect(shared.report().registrations).toHaveLength(2);
    await pr(a).register(1n, 0n, { ignoreExisting: true });
    expect(shared.report()).toMatchObject({ generation: 4, registrations: [{ hostId: 'z', key: 9n }] });
  });

  it('treats unregistering an unregistered host as a no-op without a generation bump', async () => {
    const { shared, a } = setup();
    await pr(a).register(0n, 0n);
    await pr(a).register(0n, 0n, { ignoreExisting: true });
    expect(shared.report()).toEqual({ generation: 0, registrations: [], reservation: undefined });
  });

  it('releases the reservation when its holder unregisters; the holder key follows a re-key', async () => {
    const { shared, a, b } = setup();
    await pr(a).register(0n, 1n);
    await pr(b).register(0n, 2n);
    await pr(a).reserve(1n, 'write-exclusive');
    await pr(a).register(1n, 5n);
    expect(shared.report().reservation).toEqual({ holderKey: 5n, type: 'write-exclusive' });
    await pr(b).register(2n, 0n); // a non-holder leaving changes nothing
    expect(shared.report().reservation).toBeDefined();
    await pr(a).register(5n, 0n);
    expect(shared.report().reservation).toBeUndefined();
  });

  it('keeps an all-registrants reservation until the last registrant leaves, reporting key 0', async () => {
    const { shared, a, b } = setup();
    await pr(a).register(0n, 1n);
    await pr(b).register(0n, 2n);
    await pr(b).reserve(2n, 'exclusive-access-all-registrants');
    expect(shared.report().reservation).toEqual({ holderKey: 0n, type: 'exclusive-access-all-registrants' });
    await pr(b).register(2n, 0n);
    expect(shared.report().reservation).toBeDefined();
    expect(shared.roleOf('a')).toBe('holder');
    await pr(a).register(1n, 0n);
    expect(shared.report().reservation).toBeUndefined();
  });

  it('rejects keys that are not 64-bit unsigned with INVALID_INPUT', async () => {
    const { a } = setup();
    await expectDiskError(pr(a).register(0n, -1n), 'INVALID_INPUT');
    await expectDiskError(pr(a).register(0n, 1n << 64n), 'INVALID_INPUT');
    await pr(a).register(0n, (1n << 64n) - 1n);
  });
});

describe('ReservationsDisk RESERVE, RELEASE and CLEAR', () => {
  it('needs a registered host with its own key', async () => {
    const { a, b } = setup();
    await expectDiskError(pr(a).reserve(0n, 'write-exclusive'), 'RESERVATION_CONFLICT');
    await pr(a).register(0n, 1n);
    await expectDiskError(pr(a).reserve(2n, 'write-exclusive'), 'RESERVATION_CONFLICT');
    await expectDiskError(pr(b).release(1n, 'write-exclusive'), 'RESERVATION_CONFLICT');
    await expectDiskError(pr(b).clear(1n), 'RESERVATION_CONFLICT');
    await expectDiskError(pr(a).reserve(1n, 'bogus' as ReservationType), 'INVALID_INPUT');
  });

  it('is idempotent for the holder with the same type and a conflict otherwise, without bumping PRgeneration', async () => {
    const { shared, a, b } = setup();
    await pr(a).register(0n, 1n);
    await pr(b).register(0n, 2n);
    await pr(a).reserve(1n, 'exclusive-access');
    await pr(a).reserve(1n, 'exclusive-access');
    await expectDiskError(pr(a).reserve(1n, 'write-exclusive'), 'RESERVATION_CONFLICT');
    await expectDiskError(pr(b).reserve(2n, 'exclusive-access'), 'RESERVATION_CONFLICT');
    expect(shared.report()).toMatchObject({ generation: 2, reservation: { holderKey: 1n, type: 'exclusive-access' } });
  });

  it('releases only for the holder with the matching type', async () => {
    const { shared, a, b } = setup();
    await pr(a).register(0n, 1n);
    await pr(b).register(0n, 2n);
    await pr(b).release(2n, 'exclusive-access'); // nothing reserved: no-op
    await pr(a).reserve(1n, 'exclusive-access');
    await pr(b).release(2n, 'exclusive-access'); // not the holder: ignored
    expect(shared.report().reservation).toBeDefined();
    await expectDiskError(pr(a).release(1n, 'write-exclusive'), 'INVALID_INPUT');
    await pr(a).release(1n, 'exclusive-access');
    expect(shared.report()).toMatchObject({ generation: 2, reservation: undefined });
    await b.write(0, pattern(512, 1));
  });

  it('lets any registrant release an all-registrants reservation', async () => {
    const { shared, a, b } = setup();
    await pr(a).register(0n, 1n);
    await pr(b).register(0n, 2n);
    await pr(a).reserve(1n, 'write-exclusive-all-registrants');
    await pr(b).release(2n, 'write-exclusive-all-registrants');
    expect(shared.report().reservation).toBeUndefined();
  });

  it('clears every registration and the reservation', async () => {
    const { shared, a, b, c } = setup();
    await pr(a).register(0n, 1n);
    await pr(b).register(0n, 2n);
    await pr(a).reserve(1n, 'exclusive-access');
    await pr(b).clear(2n);
    expect(shared.report()).toEqual({ generation: 3, registrations: [], reservation: undefined });
    await c.write(0, pattern(512, 1));
  });
});

describe('ReservationsDisk PREEMPT', () => {
  async function threeHosts() {
    const s = setup();
    await pr(s.a).register(0n, 1n);
    await pr(s.b).register(0n, 2n);
    await pr(s.c).register(0n, 3n);
    return s;
  }

  it('takes over the holder’s reservation with the new type, removing the holder’s registration', async () => {
    const { shared, a, b } = await threeHosts();
    await pr(a).reserve(1n, 'exclusive-access');
    await pr(b).preempt(2n, 1n, 'write-exclusive', { abort: true });
    expect(shared.report()).toEqual({
      generation: 4,
      registrations: [{ hostId: 'b', key: 2n }, { hostId: 'c', key: 3n }],
      reservation: { holderKey: 2n, type: 'write-exclusive' },
    });
    await expectDiskError(a.write(0, pattern(512, 1)), 'RESERVATION_CONFLICT');
    await b.write(0, pattern(512, 1));
  });

  it('removes every registration sharing the holder’s key, but never the requester’s', async () => {
    const { shared, a, b, c } = await threeHosts();
    await pr(c).register(3n, 1n); // c now shares a's key
    await pr(a).reserve(1n, 'write-exclusive');
    await pr(b).preempt(2n, 1n, 'exclusive-access');
    expect(shared.report().registrations).toEqual([{ hostId: 'b', key: 2n }]);
    // The holder may preempt its own key to change type; it keeps its registration.
    await pr(b).preempt(2n, 2n, 'write-exclusive-registrants-only');
    expect(shared.report()).toMatchObject({ registrations: [{ hostId: 'b', key: 2n }], reservation: { holderKey: 2n, type: 'write-exclusive-registrants-only' } });
  });

  it('removes a non-holder’s registration and leaves the reservation alone', async () => {
    const { shared, a, b } = await threeHosts();
    await pr(a).reserve(1n, 'write-exclusive-registrants-only');
    await pr(a).preempt(1n, 3n, 'exclusive-access');
    expect(shared.report()).toMatchObject({
      generation: 4,
      registrations: [{ hostId: 'a', key: 1n }, { hostId: 'b', key: 2n }],
      reservation: { holderKey: 1n, type: 'write-exclusive-registrants-only' },
    });
    await pr(b).preempt(2n, 1n, 'exclusive-access'); // now b takes it over from a
    expect(shared.report().reservation).toEqual({ holderKey: 2n, type: 'exclusive-access' });
  });

  it('removes registrations even with no reservation; key 0 is invalid and an unknown key a conflict', async () => {
    const { shared, a } = await threeHosts();
    await pr(a).preempt(1n, 2n, 'write-exclusive');
    expect(shared.report()).toMatchObject({ generation: 4, reservation: undefined });
    expect(shared.report().registrations.map((r) => r.hostId)).toEqual(['a', 'c']);
    await expectDiskError(pr(a).preempt(1n, 0n, 'write-exclusive'), 'INVALID_INPUT');
    await expectDiskError(pr(a).preempt(1n, 77n, 'write-exclusive'), 'RESERVATION_CONFLICT');
    await expectDiskError(pr(a).preempt(9n, 3n, 'write-exclusive'), 'RESERVATION_CONFLICT');
    expect(shared.report().generation).toBe(4);
  });

  it('with key 0 against an all-registrants reservation, removes everyone else and takes over', async () => {
    const { shared, a, c } = await threeHosts();
    await pr(a).reserve(1n, 'exclusive-access-all-registrants');
    await pr(c).preempt(3n, 0n, 'exclusive-access');
    expect(shared.report()).toEqual({
      generation: 4,
      registrations: [{ hostId: 'c', key: 3n }],
      reservation: { holderKey: 3n, type: 'exclusive-access' },
    });
    await expectDiskError(a.read(0, new Uint8Array(512)), 'RESERVATION_CONFLICT');
  });
});

describe('ReservationsDisk views', () => {
  it('gives one view per host, acting for that host, hiding no metadata', async () => {
    const { shared, a } = setup();
    expect(shared.forHost('a')).toBe(a);
    expect(pr(a).hostId).toBe('a');
    expect(a.diskType).toBe('reservations');
    expect(a.sectorCount()).toBe(64);
    expect(a.resize).toBeTypeOf('function');
  });

  it('closing a view leaves the shared disk and registrations; closing the ReservationsDisk closes the inner', async () => {
    const { shared, ram, a, b } = setup();
    await b.write(0, pattern(512, 4));
    await pr(a).register(0n, 1n);
    await a.close();
    expect(shared.report().registrations).toHaveLength(1);
    const got = new Uint8Array(512);
    await b.read(0, got);
    expectSameBytes(got, pattern(512, 4));
    let closed = false;
    ram.close = async () => void (closed = true);
    await shared.close();
    expect(closed).toBe(true);
  });
});
