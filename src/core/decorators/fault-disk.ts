/**
 * FaultDisk: injects errors by rule, like QEMU's blkdebug, so the lab can show what a guest sees
 * when a disk fails (status codes, retries, a RAID member dropping out).
 *
 * A rule matches an operation when every condition it states holds:
 * - `op`: the operation type (`read`, `write`, `flush`, `unmap`), or any when omitted;
 * - `sectors`: the operation touches at least one sector of [lba, lba + count). Flush touches no
 *   sectors, so a rule with `sectors` never matches a flush; zero-length I/O touches none either;
 * - `nth`: the rule fires from the nth operation it would otherwise match (1-based, counted from
 *   when the rule was added). Without `nth`, from the first.
 * When a rule fires the operation rejects with `DiskError(code)` (default `MEDIUM_ERROR`). The
 * error's `lba` is the first sector the fault concerns: the first sector of the request inside the
 * rule's range, or the request's first sector for a rule without a range (undefined for flush).
 * A `once` rule is removed after it fires; otherwise it fires on every later match as well ("the
 * disk died at the nth write"). Rules are checked in the order they were added; the first that
 * fires wins, and only the rules checked before it count the operation towards their `nth`.
 *
 * A faulted operation never reaches the inner disk: a failed write leaves the disk unchanged and a
 * failed read leaves the buffer untouched. Requests outside the disk are rejected with
 * `OUT_OF_RANGE` before any rule sees them, as a device validates a command before touching media.
 * Rules can be added and removed at any time; they apply to operations issued afterwards.
 *
 * Errors: invalid rules are `DiskConfigError('INVALID_PARAMETER')`.
 */
import type { Disk, WriteOptions } from '../disk/disk.ts';
import { DiskConfigError, DiskError, DISK_ERROR_CODES, type DiskErrorCode } from '../disk/errors.ts';
import { checkRange } from '../disk/range.ts';
import { ForwardingDisk } from './forwarding-disk.ts';

export type FaultOp = 'read' | 'write' | 'flush' | 'unmap';

export interface FaultRuleSpec {
  readonly op?: FaultOp;
  readonly sectors?: { readonly lba: number; readonly count: number };
  readonly nth?: number;
  readonly code?: DiskErrorCode;
  readonly once?: boolean;
}

/** A rule as it stands now: its spec, its id, and how often it has matched and fired. */
export interface FaultRuleState extends FaultRuleSpec {
  readonly id: number;
  readonly matched: number;
  readonly fired: number;
}

interface Rule {
  readonly id: number;
  readonly spec: FaultRuleSpec;
  matched: number;
  fired: number;
}

const FAULT_OPS: readonly FaultOp[] = ['read', 'write', 'flush', 'unmap'];

export class FaultDisk extends ForwardingDisk {
  #rules: Rule[] = [];
  #nextId = 1;

  constructor(inner: Disk, rules: readonly FaultRuleSpec[] = []) {
    super(inner);
    for (const r of rules) this.addRule(r);
  }

  // diskType changes: the stack view shows this layer as 'fault'.
  override get diskType(): string {
    return 'fault';
  }

  /** Adds a rule (checked after the existing ones) and returns its id. */
  addRule(spec: FaultRuleSpec): number {
    validateRule(spec);
    const id = this.#nextId++;
    this.#rules.push({ id, spec: { ...spec, sectors: spec.sectors && { ...spec.sectors } }, matched: 0, fired: 0 });
    return id;
  }

  /** Removes a rule; false if there was no such rule (already removed, or a fired `once` rule). */
  removeRule(id: number): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length !== before;
  }

  clearRules(): void {
    this.#rules = [];
  }

  rules(): FaultRuleState[] {
    return this.#rules.map((r) => ({ ...r.spec, id: r.id, matched: r.matched, fired: r.fired }));
  }

  override async read(lba: number, buf: Uint8Array): Promise<void> {
    this.#check('read', lba, buf.length / this.sectorSize);
    return this.inner.read(lba, buf);
  }

  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#check('write', lba, data.length / this.sectorSize);
    return this.inner.write(lba, data, options);
  }

  override async flush(): Promise<void> {
    this.#check('flush', undefined, 0);
    return this.inner.flush();
  }

  override async unmap(lba: number, count: number): Promise<void> {
    this.#check('unmap', lba, count);
    return this.inner.unmap(lba, count);
  }

  /** Throws the fault for this operation, if a rule fires. Runs synchronously at issue, so issue order decides. */
  #check(op: FaultOp, lba: number | undefined, count: number): void {
    if (lba !== undefined) checkRange(op, lba, count, this.inner.sectorCount());
    for (const rule of this.#rules) {
      const { spec } = rule;
      if (spec.op !== undefined && spec.op !== op) continue;
      let faultLba = lba;
      if (spec.sectors !== undefined) {
        if (lba === undefined || count === 0) continue;
        const start = Math.max(lba, spec.sectors.lba);
        const end = Math.min(lba + count, spec.sectors.lba + spec.sectors.count);
        if (start >= end) continue;
        faultLba = start;
      }
      rule.matched++;
      if (rule.matched < (spec.nth ?? 1)) continue;
      rule.fired++;
      if (spec.once) this.removeRule(rule.id);
      const code = spec.code ?? 'MEDIUM_ERROR';
      const where = faultLba === undefined ? '' : ` at LBA ${faultLba}`;
      throw new DiskError(code, `${op}: injected ${code}${where} (fault rule ${rule.id})`, { lba: faultLba });
    }
  }
}

function validateRule(spec: FaultRuleSpec): void {
  const bad = (field: string, value: unknown, why: string): never => {
    throw new DiskConfigError('INVALID_PARAMETER', field, `fault rule: ${field} ${why}`, { value });
  };
  if (spec.op !== undefined && !FAULT_OPS.includes(spec.op)) bad('op', spec.op, 'is not read, write, flush or unmap');
  if (spec.nth !== undefined && (!Number.isSafeInteger(spec.nth) || spec.nth < 1)) bad('nth', spec.nth, 'must be a positive integer');
  if (spec.code !== undefined && !DISK_ERROR_CODES.includes(spec.code)) bad('code', spec.code, 'is not a DiskError code');
  if (spec.sectors !== undefined) {
    const { lba, count } = spec.sectors;
    if (!Number.isSafeInteger(lba) || lba < 0) bad('sectors.lba', lba, 'must be a non-negative integer');
    if (!Number.isSafeInteger(count) || count < 1) bad('sectors.count', count, 'must be a positive integer');
    if (spec.op === 'flush') bad('sectors', spec.sectors, 'can never match a flush, which touches no sectors');
  }
}
