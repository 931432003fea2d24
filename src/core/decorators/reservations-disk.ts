/**
 * ReservationsDisk: SCSI-3 persistent reservations (SPC-5) emulated over any disk, like OpenVMM's
 * disk_prwrap, but also enforcing the reservation on reads, writes, unmaps and flushes, which
 * disk_prwrap leaves to the backend.
 *
 * One `ReservationsDisk` holds the shared state (registrations, the reservation, PRgeneration) for
 * an inner disk. Each host (initiator, I_T nexus) gets its own Disk view from `forHost(hostId)`;
 * the view's `reservations` act as that host, and its I/O is checked as coming from that host.
 *
 * Rules implemented (SPC-5 5.14 and the PERSISTENT RESERVE OUT service actions):
 * - REGISTER: an unregistered host registers with oldKey 0 (a non-zero oldKey is a conflict;
 *   newKey 0 is then a no-op). A registered host must give its current key as oldKey, unless
 *   `ignoreExisting`; newKey 0 unregisters. A mismatch is RESERVATION_CONFLICT.
 * - RESERVE needs a registered host and its key. Reserving again with the same type is a no-op; any
 *   other existing reservation is a conflict.
 * - RELEASE by a non-holder or with no reservation is a no-op; by the holder with another type it is
 *   INVALID_INPUT (SPC: INVALID RELEASE OF PERSISTENT RESERVATION).
 * - CLEAR removes every registration and the reservation.
 * - PREEMPT: if preemptKey names the holder (the holder's key; 0 for an all-registrants
 *   reservation), the registrations with that key (all others, for an all-registrants reservation)
 *   are removed, except the requester's, and the requester takes the reservation with the given
 *   type. Otherwise registrations with preemptKey are removed and the reservation stays; preemptKey
 *   0 is then INVALID_INPUT, and removing nothing is RESERVATION_CONFLICT. The abort flag (PREEMPT
 *   AND ABORT) is accepted; there is no task set to abort here, and in-flight I/O completes.
 * - For all-registrants types every registrant is a holder, and the reported holder key is 0. A
 *   reservation disappears when its holder unregisters or is preempted (for all-registrants types,
 *   when the last registrant goes).
 * - PRgeneration goes up (mod 2^32) on every register, clear and preempt that changes state.
 * - Access (SPC-5 table "commands allowed in the presence of various reservations"): write-exclusive
 *   lets others read but not write; exclusive-access lets others do neither; the registrants-only
 *   and all-registrants variants extend the holder's rights to every registrant. Unmap and flush
 *   (SYNCHRONIZE CACHE) count as writes, as SBC lists them. Reporting is always allowed. `resize`
 *   is not checked: it stands for the storage administrator growing a LUN, not a host's command.
 *
 * Errors: conflicts reject with `DiskError('RESERVATION_CONFLICT')`; keys outside 0..2^64-1 and
 * unknown types with `INVALID_INPUT`. The views' `close` leaves the shared disk open (other hosts
 * still use it, and registrations persist like SCSI's); `ReservationsDisk.close` closes the inner disk.
 */
import type { Disk, WriteOptions } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { RESERVATION_TYPES, type PersistentReservations, type ReservationReport, type ReservationType } from '../disk/reservations.ts';
import { ForwardingDisk } from './forwarding-disk.ts';

export type HostRole = 'holder' | 'registrant' | 'unregistered';
export type AccessKind = 'read' | 'write';

const MAX_KEY = (1n << 64n) - 1n;

export function isAllRegistrants(type: ReservationType): boolean {
  return type === 'write-exclusive-all-registrants' || type === 'exclusive-access-all-registrants';
}

/** Whether a host in `role` may read or write under a reservation of `type` (undefined: none). */
export function accessAllowed(type: ReservationType | undefined, role: HostRole, access: AccessKind): boolean {
  if (type === undefined || role === 'holder') return true;
  const writeOnly = type.startsWith('write-exclusive');
  const registrantsShare = type !== 'write-exclusive' && type !== 'exclusive-access';
  if (registrantsShare && role === 'registrant') return true;
  return writeOnly && access === 'read';
}

interface Reservation {
  /** The host that reserved (for all-registrants types, every registrant holds it). */
  readonly holder: string;
  readonly type: ReservationType;
}

export class ReservationsDisk {
  readonly #inner: Disk;
  /** Registered hosts and their keys, in registration order. */
  readonly #registrations = new Map<string, bigint>();
  readonly #views = new Map<string, ReservationsHostDisk>();
  #reservation: Reservation | undefined;
  #generation = 0;

  constructor(inner: Disk) {
    this.#inner = inner;
  }

  get innerDisk(): Disk {
    return this.#inner;
  }

  /** The disk as `hostId` sees it; the same view for the same host. */
  forHost(hostId: string): Disk {
    let view = this.#views.get(hostId);
    if (view === undefined) {
      view = new ReservationsHostDisk(this.#inner, this, hostId);
      this.#views.set(hostId, view);
    }
    return view;
  }

  /** The current state, as PERSISTENT RESERVE IN would report it. */
  report(): ReservationReport {
    const r = this.#reservation;
    return {
      generation: this.#generation,
      registrations: [...this.#registrations].map(([hostId, key]) => ({ hostId, key })),
      reservation: r && { holderKey: isAllRegistrants(r.type) ? 0n : this.#registrations.get(r.holder) ?? 0n, type: r.type },
    };
  }

  roleOf(hostId: string): HostRole {
    if (!this.#registrations.has(hostId)) return 'unregistered';
    const r = this.#reservation;
    if (r !== undefined && (isAllRegistrants(r.type) || r.holder === hostId)) return 'holder';
    return 'registrant';
  }

  /** Rejects with RESERVATION_CONFLICT unless `hostId` may perform `access` now. */
  checkAccess(hostId: string, access: AccessKind, op: string, lba?: number): void {
    const type = this.#reservation?.type;
    if (!accessAllowed(type, this.roleOf(hostId), access)) {
      throw new DiskError('RESERVATION_CONFLICT', `${op} by host '${hostId}' conflicts with a ${type} reservation`, { lba });
    }
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  register(hostId: string, oldKey: bigint, newKey: bigint, ignoreExisting: boolean): void {
    checkKey(oldKey, 'reservation key');
    checkKey(newKey, 'service action reservation key');
    const current = this.#registrations.get(hostId);
    if (current === undefined) {
      if (!ignoreExisting && oldKey !== 0n) conflict(`register: host '${hostId}' is not registered but gave key ${hex(oldKey)}`);
      if (newKey === 0n) return;
      this.#registrations.set(hostId, newKey);
    } else {
      if (!ignoreExisting && oldKey !== current) conflict(`register: key ${hex(oldKey)} does not match host '${hostId}'s registration`);
      if (newKey === 0n) {
        this.#registrations.delete(hostId);
        this.#dropOrphanedReservation();
      } else {
        this.#registrations.set(hostId, newKey);
      }
    }
    this.#bump();
  }

  reserve(hostId: string, key: bigint, type: ReservationType): void {
    checkType(type);
    this.#requireKey(hostId, key, 'reserve');
    const r = this.#reservation;
    if (r === undefined) {
      this.#reservation = { holder: hostId, type };
      return;
    }
    if (this.roleOf(hostId) === 'holder' && r.type === type) return;
    conflict(`reserve: a ${r.type} reservation is already held`);
  }

  release(hostId: string, key: bigint, type: ReservationType): void {
    checkType(type);
    this.#requireKey(hostId, key, 'release');
    const r = this.#reservation;
    if (r === undefined || this.roleOf(hostId) !== 'holder') return;
    if (r.type !== type) {
      throw new DiskError('INVALID_INPUT', `release: the reservation is ${r.type}, not ${type} (invalid release of persistent reservation)`);
    }
    this.#reservation = undefined;
  }

  clear(hostId: string, key: bigint): void {
    this.#requireKey(hostId, key, 'clear');
    this.#registrations.clear();
    this.#reservation = undefined;
    this.#bump();
  }

  preempt(hostId: string, key: bigint, preemptKey: bigint, type: ReservationType): void {
    checkKey(preemptKey, 'service action reservation key');
    checkType(type);
    this.#requireKey(hostId, key, 'preempt');
    const r = this.#reservation;
    const namesHolder =
      r !== undefined && (isAllRegistrants(r.type) ? preemptKey === 0n : this.#registrations.get(r.holder) === preemptKey);
    if (namesHolder) {
      const everyone = r !== undefined && isAllRegistrants(r.type);
      for (const [other, otherKey] of [...this.#registrations]) {
        if (other !== hostId && (everyone || otherKey === preemptKey)) this.#registrations.delete(other);
      }
      this.#reservation = { holder: hostId, type };
    } else {
      if (preemptKey === 0n) throw new DiskError('INVALID_INPUT', 'preempt: key 0 names no registration when no all-registrants reservation is held');
      const victims = [...this.#registrations].filter(([, k]) => k === preemptKey);
      if (victims.length === 0) conflict(`preempt: no registration has key ${hex(preemptKey)}`);
      for (const [other] of victims) this.#registrations.delete(other);
      this.#dropOrphanedReservation();
    }
    this.#bump();
  }

  #requireKey(hostId: string, key: bigint, op: string): void {
    checkKey(key, 'reservation key');
    const current = this.#registrations.get(hostId);
    if (current === undefined) conflict(`${op}: host '${hostId}' is not registered`);
    if (current !== key) conflict(`${op}: key ${hex(key)} does not match host '${hostId}'s registration`);
  }

  #dropOrphanedReservation(): void {
    const r = this.#reservation;
    if (r === undefined) return;
    const orphaned = isAllRegistrants(r.type) ? this.#registrations.size === 0 : !this.#registrations.has(r.holder);
    if (orphaned) this.#reservation = undefined;
  }

  #bump(): void {
    this.#generation = (this.#generation + 1) >>> 0;
  }
}

/** One host's view of a ReservationsDisk. */
class ReservationsHostDisk extends ForwardingDisk {
  readonly #shared: ReservationsDisk;
  readonly #hostId: string;
  readonly #reservations: PersistentReservations;

  constructor(inner: Disk, shared: ReservationsDisk, hostId: string) {
    super(inner);
    this.#shared = shared;
    this.#hostId = hostId;
    this.#reservations = new HostReservations(shared, hostId);
  }

  // diskType changes: the stack view shows this layer as 'reservations'.
  override get diskType(): string {
    return 'reservations';
  }

  // reservations changes: always present, acting for this host (an inner disk's own are hidden).
  override get reservations(): PersistentReservations {
    return this.#reservations;
  }

  override async read(lba: number, buf: Uint8Array): Promise<void> {
    this.#shared.checkAccess(this.#hostId, 'read', 'read', lba);
    return this.inner.read(lba, buf);
  }

  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#shared.checkAccess(this.#hostId, 'write', 'write', lba);
    return this.inner.write(lba, data, options);
  }

  override async unmap(lba: number, count: number): Promise<void> {
    this.#shared.checkAccess(this.#hostId, 'write', 'unmap', lba);
    return this.inner.unmap(lba, count);
  }

  override async flush(): Promise<void> {
    this.#shared.checkAccess(this.#hostId, 'write', 'flush');
    return this.inner.flush();
  }

  // close changes: it detaches this host only; the shared inner disk stays open for the others.
  override async close(): Promise<void> {}
}

class HostReservations implements PersistentReservations {
  readonly hostId: string;
  readonly #shared: ReservationsDisk;

  constructor(shared: ReservationsDisk, hostId: string) {
    this.#shared = shared;
    this.hostId = hostId;
  }

  async register(oldKey: bigint, newKey: bigint, options?: { readonly ignoreExisting?: boolean }): Promise<void> {
    this.#shared.register(this.hostId, oldKey, newKey, options?.ignoreExisting ?? false);
  }
  async reserve(key: bigint, type: ReservationType): Promise<void> {
    this.#shared.reserve(this.hostId, key, type);
  }
  async release(key: bigint, type: ReservationType): Promise<void> {
    this.#shared.release(this.hostId, key, type);
  }
  async clear(key: bigint): Promise<void> {
    this.#shared.clear(this.hostId, key);
  }
  // abort is accepted and changes nothing: see the module doc.
  async preempt(key: bigint, preemptKey: bigint, type: ReservationType, _options?: { readonly abort?: boolean }): Promise<void> {
    this.#shared.preempt(this.hostId, key, preemptKey, type);
  }
  async report(): Promise<ReservationReport> {
    return this.#shared.report();
  }
}

function checkKey(key: bigint, what: string): void {
  if (typeof key !== 'bigint' || key < 0n || key > MAX_KEY) {
    throw new DiskError('INVALID_INPUT', `${what} ${String(key)} is not a 64-bit unsigned bigint`);
  }
}

function checkType(type: ReservationType): void {
  if (!RESERVATION_TYPES.includes(type)) throw new DiskError('INVALID_INPUT', `unknown reservation type '${String(type)}'`);
}

function conflict(message: string): never {
  throw new DiskError('RESERVATION_CONFLICT', message);
}

function hex(key: bigint): string {
  return `0x${key.toString(16)}`;
}
