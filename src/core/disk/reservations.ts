/**
 * SCSI-3 persistent reservations (SPC-5 PERSISTENT RESERVE IN/OUT), as a disk may offer them.
 *
 * A `PersistentReservations` object always acts for one initiator (one host, the I_T nexus in SCSI
 * terms): the disk a host holds carries that host's view. Keys are 64-bit, so they are bigints;
 * key 0 means "no key" as in SPC. Every command that SPC answers with RESERVATION CONFLICT rejects
 * with `DiskError('RESERVATION_CONFLICT')`; malformed requests reject with `INVALID_INPUT`.
 * Reads and writes through a disk with reservations are checked against the reservation type.
 */

export const RESERVATION_TYPES = [
  'write-exclusive',
  'exclusive-access',
  'write-exclusive-registrants-only',
  'exclusive-access-registrants-only',
  'write-exclusive-all-registrants',
  'exclusive-access-all-registrants',
] as const;

export type ReservationType = (typeof RESERVATION_TYPES)[number];

/** The SPC TYPE field value of each reservation type. */
export const RESERVATION_TYPE_CODES: Record<ReservationType, number> = {
  'write-exclusive': 1,
  'exclusive-access': 3,
  'write-exclusive-registrants-only': 5,
  'exclusive-access-registrants-only': 6,
  'write-exclusive-all-registrants': 7,
  'exclusive-access-all-registrants': 8,
};

export interface ReservationReport {
  /** PRgeneration: bumped by every successful register, clear and preempt. */
  readonly generation: number;
  readonly registrations: readonly { readonly hostId: string; readonly key: bigint }[];
  readonly reservation: { readonly holderKey: bigint; readonly type: ReservationType } | undefined;
}

export interface PersistentReservations {
  /** The initiator this view acts for. */
  readonly hostId: string;
  /** REGISTER (or REGISTER AND IGNORE EXISTING KEY when `ignoreExisting`); newKey 0 unregisters. */
  register(oldKey: bigint, newKey: bigint, options?: { readonly ignoreExisting?: boolean }): Promise<void>;
  reserve(key: bigint, type: ReservationType): Promise<void>;
  release(key: bigint, type: ReservationType): Promise<void>;
  clear(key: bigint): Promise<void>;
  preempt(key: bigint, preemptKey: bigint, type: ReservationType, options?: { readonly abort?: boolean }): Promise<void>;
  report(): Promise<ReservationReport>;
}
