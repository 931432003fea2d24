/**
 * LessonSession: runs a lesson's setup actions on the real lab and reads the live state its
 * questions are checked against. One session per started lesson; it remembers the stacks it opened
 * (by the lesson's names), the size of each image file it fetched, the last workload and the last
 * reservation outcome, and the text the actions printed (the player's output box).
 *
 * Everything goes through the page's own Lab and WorkloadRunner, so the panels show what the
 * lesson did and "free play" simply leaves the stacks open.
 *
 * Errors: `run` rejects when the lab fails to do an action (a stack cannot open, a worker call
 * fails); a shell line that fails, a refused workload and a reservation conflict are outcomes,
 * recorded and shown, not failures. `probe` rejects when the state it needs is missing (no
 * workload ran yet, no such layer).
 */
import type { StackId, StackInfo, StackNode, ReservationOutcome } from '../../../workers/api.ts';
import type { DiskSpec } from '../../core/spec.ts';
import type { OpSummary, WorkloadResult } from '../../core/workload/results.ts';
import type { Lab } from '../lab/lab-context.tsx';
import type { WorkloadRunner } from '../workload/workload-runner.ts';
import { parseNumber, type LiveValue } from './answer-check.ts';
import { countByte, fingerprint, idleUrlStats, LessonError, lessonKeyFile, readSector, sameBytes, uniqueTarget, urlStat, waitJob } from './lesson-features.ts';
import type { JobInfo } from '../../../workers/storage-api.ts';
import type { UrlSourceStats } from '../../../workers/url-cache-api.ts';
import type { JobSpec } from '../../core/workload/job.ts';
import { ZERO_FILLED, type LessonAction, type Probe, type PublicFile, type StackRecipe } from './lesson.ts';

export interface LessonEnv {
  readonly lab: Lab;
  readonly runner: WorkloadRunner;
}

export { LessonError };

/** The bytes of a raw image built in the page: zeroes with the given fills. */
export function rawPattern(sizeBytes: number, fills: readonly { offset: number; length: number; byte: number }[]): Uint8Array {
  const bytes = new Uint8Array(sizeBytes);
  for (const f of fills) bytes.fill(f.byte, f.offset, f.offset + f.length);
  return bytes;
}

/** The first node (pre-order) that satisfies `test`. */
export function findNode(node: StackNode, test: (n: StackNode) => boolean): StackNode | undefined {
  if (test(node)) return node;
  for (const c of node.children) {
    const found = findNode(c, test);
    if (found) return found;
  }
  return undefined;
}

/** Bytes held by the top layer of each member of the first striped disk in the tree. */
export function memberBytes(tree: StackNode): number[] {
  const striped = findNode(tree, (n) => n.diskType === 'striped');
  if (!striped) throw new LessonError('the active stack has no striped disk');
  return striped.children.map((m) => findNode(m, (n) => n.role === 'layer')?.bytesPresent ?? 0);
}

/** The op type a workload exercised (the one with I/Os, reads first). */
export function mainOp(result: WorkloadResult): OpSummary {
  return result.read.ios > 0 || result.write.ios === 0 ? result.read : result.write;
}

export class LessonSession {
  readonly #env: () => LessonEnv;
  readonly stacks = new Map<string, StackId>();
  readonly #files = new Map<string, number>();
  #active: StackId | undefined;
  #workload: { result?: WorkloadResult; error?: string } | undefined;
  #pr: ReservationOutcome | undefined;
  #urlMark: UrlSourceStats | undefined;
  #job: { id: string; atReady?: JobInfo; sizeBytes: number } | undefined;
  #fingerprint: string | undefined;
  /** OPFS images the lesson's jobs created, deleted when the lesson closes its stacks. */
  readonly #images: string[] = [];
  /** What the actions printed, newest last. */
  output: string[] = [];

  constructor(env: () => LessonEnv) {
    this.#env = env;
  }

  /** The stack the lesson works on (the panels are pointed at it after each step's actions). */
  get activeStack(): StackId | undefined {
    return this.#active;
  }

  /** The lesson's block job and its snapshot at the first 'ready', once one was started. */
  get job(): { readonly id: string; readonly atReady?: JobInfo } | undefined {
    return this.#job;
  }

  get lastReservation(): ReservationOutcome | undefined {
    return this.#pr;
  }

  #id(): StackId {
    if (this.#active === undefined) throw new LessonError('no stack is open in this lesson yet');
    return this.#active;
  }

  #say(line: string): void {
    this.output = [...this.output, line].slice(-200);
  }

  async run(action: LessonAction): Promise<void> {
    const { lab } = this.#env();
    const disk = lab.client.disk;
    switch (action.kind) {
      case 'open': {
        const old = this.stacks.get(action.name);
        if (old !== undefined) await lab.close(old);
        const spec = await this.#spec(action.name, action.stack);
        const info = await lab.openOrThrow(spec, action.name);
        this.stacks.set(action.name, info.id);
        this.#active = info.id;
        this.#say(`opened ${action.name}: ${info.sectorCount} sectors of ${info.sectorSize} bytes`);
        return;
      }
      case 'select': {
        const id = this.stacks.get(action.name);
        if (id === undefined) throw new LessonError(`the lesson has not opened '${action.name}'`);
        this.#active = id;
        lab.select(id);
        return;
      }
      case 'add-ram-diff': {
        const info = await disk.addOverlay(this.#id(), { kind: 'ram-diff' });
        lab.update(info);
        this.#say('added an empty RAM diff on top');
        return;
      }
      case 'drop-top-overlay': {
        const info = await disk.stackInfo(this.#id());
        const top = findNode(info.tree, (n) => n.removable);
        if (!top) throw new LessonError('the stack has no overlay to drop');
        lab.update(await disk.removeOverlay(info.id, top.id));
        this.#say(`dropped ${top.label}`);
        return;
      }
      case 'shell': {
        const id = this.#id();
        const result = await disk.runShell(id, action.line);
        this.#say(`> ${action.line}`);
        for (const l of result.lines) this.#say(l.text);
        await lab.refresh(id);
        return;
      }
      case 'workload':
        await this.#workloadRun(this.#id(), action.job, action.queues, action.depth);
        return;
      case 'pr': {
        const outcome = await disk.reservation(this.#id(), action.host, action.op);
        this.#pr = outcome;
        this.#say(outcome.ok ? `${outcome.message}` : outcome.message);
        await lab.refresh(this.#id());
        return;
      }
      case 'url-mark':
        this.#urlMark = (await idleUrlStats(disk, this.#id())).stats;
        return;
      case 'add-crypt': {
        const info = await disk.addOverlay(this.#id(), { kind: 'crypt', key: 'key-file', ivOffset: '0' }, { keyFile: lessonKeyFile(action.keySeed) });
        lab.update(info);
        this.#say(`added ${info.crypt?.cipher ?? 'an encryption'} layer (key file from seed ${action.keySeed})`);
        return;
      }
      case 'mirror':
        await this.#mirror(action.target, action.speedLimit, action.workload);
        return;
      case 'complete-job': {
        if (!this.#job) throw new LessonError('no block job has run in this lesson yet');
        await disk.jobControl(this.#job.id, 'complete');
        const end = await waitJob(disk, this.#job.id, () => false);
        this.#say(`mirror ${end.state}${end.note ? `: ${end.note}` : ''}`);
        await lab.refresh(this.#id());
        return;
      }
      case 'fingerprint':
        this.#fingerprint = await fingerprint(disk, this.#id());
        this.#say(`SHA-256 of the whole disk: ${this.#fingerprint.slice(0, 16)}…`);
        return;
    }
  }

  async #workloadRun(id: StackId, job: JobSpec, queuesOpt?: number, depthOpt?: number): Promise<void> {
    const { runner } = this.#env();
    const depth = depthOpt ?? job.iodepth ?? 1;
    const queues = queuesOpt ?? job.queues ?? 1;
    const bs = job.bs ?? 4096;
    const guestMemoryBytes = Math.max(4 << 20, Math.ceil((2 * bs * depth * queues) / (1 << 20)) << 20);
    this.#say(`> ${job.rw} bs=${bs} iodepth=${depth} queues=${queues}`);
    await runner.start(id, job, { queues, depth, guestMemoryBytes });
    const view = runner.getView();
    this.#workload = view.result ? { result: view.result } : { error: view.error ?? 'the workload did not run' };
    if (view.result) {
      const op = mainOp(view.result);
      this.#say(`${op.ios} I/Os, ${Math.round(op.iops)} IOPS, mean latency ${(op.clat.meanNs / 1e6).toFixed(3)} ms, ${op.errors} errors`);
    } else {
      this.#say(`refused: ${this.#workload.error}`);
    }
  }

  /** A mirror with a workload writing meanwhile: the snapshot at the first 'ready' is kept for the questions. */
  async #mirror(target: string, speedLimit: number, workload: JobSpec): Promise<void> {
    const { lab } = this.#env();
    const disk = lab.client.disk;
    const id = this.#id();
    const info = await disk.stackInfo(id);
    const name = uniqueTarget(target);
    const started = await disk.startJob(id, { kind: 'mirror', target: name }, { speedLimit });
    this.#images.push(name);
    const job: { id: string; atReady?: JobInfo; sizeBytes: number } = { id: started.id, sizeBytes: info.sectorCount * info.sectorSize };
    this.#job = job;
    this.#say(`mirror started into ${name} at ${(speedLimit / (1 << 20)).toFixed(0)} MiB/s`);
    const writing = this.#workloadRun(id, workload);
    const ready = await waitJob(disk, started.id, (j) => j.state === 'ready');
    await writing;
    if (ready.state !== 'ready') throw new LessonError(`the mirror ${ready.state} before it was ready${ready.error ? `: ${ready.error.message}` : ''}`);
    job.atReady = ready;
    this.#say(`mirror ready: ${ready.bytesDone} of ${ready.bytesTotal} bytes copied`);
    await lab.refresh(id);
  }

  async #spec(name: string, recipe: StackRecipe): Promise<DiskSpec> {
    switch (recipe.kind) {
      case 'spec':
        // A lesson names a page-relative URL (the dev server's public/); the worker needs it absolute.
        if (recipe.spec.kind === 'url' && typeof location !== 'undefined') return { ...recipe.spec, url: new URL(recipe.spec.url, location.href).href };
        return recipe.spec;
      case 'raw-pattern': {
        const blob = new Blob([rawPattern(recipe.sizeBytes, recipe.fills) as Uint8Array<ArrayBuffer>]);
        this.#files.set(name, blob.size);
        return { kind: 'blob', blob, name: recipe.name, format: 'raw' };
      }
      case 'image': {
        const [blob, ...parents] = await Promise.all([recipe.file, ...(recipe.parents ?? [])].map(fetchPublic));
        this.#files.set(name, blob!.size);
        const spec: DiskSpec = { kind: 'blob', blob: blob!, name: recipe.file.name };
        if (parents.length === 0) return spec;
        return { ...spec, parents: parents.map((b, i) => ({ blob: b, name: recipe.parents![i]!.name })) };
      }
    }
  }

  async probe(probe: Probe): Promise<LiveValue> {
    const { lab } = this.#env();
    const disk = lab.client.disk;
    switch (probe.kind) {
      case 'source-layer': {
        const dump = await disk.readSectors(this.#id(), probe.lba, 1);
        const index = dump.sourceLayer[0] ?? -2;
        if (index === -2) throw new LessonError('the active stack has no layers');
        return index < 0 ? ZERO_FILLED : (dump.layerNames[index] ?? `layer ${index}`);
      }
      case 'layer-bytes': {
        const layer = (await this.#info()).layers[probe.layer];
        if (!layer) throw new LessonError(`the active stack has no layer ${probe.layer}`);
        return layer.bytesPresent;
      }
      case 'stack-fact': {
        const info = await this.#info();
        return probe.fact === 'sizeBytes' ? info.sectorCount * info.sectorSize : info[probe.fact];
      }
      case 'file-bytes': {
        const size = this.#files.get(probe.stack);
        if (size === undefined) throw new LessonError(`no image file was fetched for '${probe.stack}'`);
        return size;
      }
      case 'shell': {
        const result = await disk.runShell(this.#id(), probe.line);
        const text = result.lines.map((l) => l.text).join('\n');
        const m = new RegExp(probe.match).exec(text);
        if (!m || m[1] === undefined) throw new LessonError(`'${probe.line}' printed nothing that matches`);
        return parseNumber(m[1]) ?? m[1];
      }
      case 'workload': {
        const w = this.#workload;
        if (!w) throw new LessonError('no workload has run in this lesson yet');
        if (probe.metric === 'outcome') return w.result && !w.result.aborted && mainOp(w.result).ios > 0 ? 'completed' : 'refused';
        if (!w.result) throw new LessonError(`the workload was refused: ${w.error ?? ''}`);
        const op = mainOp(w.result);
        switch (probe.metric) {
          case 'iops':
            return op.iops;
          case 'mean-latency-ms':
            return op.clat.meanNs / 1e6;
          case 'p99-ms':
            return (op.clat.percentiles.find((p) => p.percentile === 99)?.ns ?? op.clat.maxNs) / 1e6;
          case 'little':
            return (op.iops * op.clat.meanNs) / 1e9;
        }
        throw new LessonError('unknown workload metric');
      }
      case 'member-bytes': {
        const bytes = memberBytes((await this.#info()).tree)[probe.member];
        if (bytes === undefined) throw new LessonError(`the striped disk has no member ${probe.member}`);
        return bytes;
      }
      case 'busiest-member': {
        const bytes = memberBytes((await this.#info()).tree);
        return `member ${bytes.indexOf(Math.max(...bytes))}`;
      }
      case 'pr': {
        if (probe.fact === 'last-outcome') {
          if (!this.#pr) throw new LessonError('no reservation command has run yet');
          return this.#pr.ok ? 'ok' : (this.#pr.code ?? 'error');
        }
        const report = await disk.reservation(this.#id(), 'observer', { op: 'report' });
        return report.reservation?.holder ?? 'nobody';
      }
      case 'url-stat': {
        if (probe.since === 'mark' && !this.#urlMark) throw new LessonError('the lesson has not marked the HTTP statistics yet');
        const { stats, chunkSize } = await idleUrlStats(disk, this.#id());
        return urlStat(stats, chunkSize, probe.stat, probe.since === 'mark' ? this.#urlMark : undefined);
      }
      case 'sectors-compare': {
        const [a, b] = [await readSector(disk, this.#id(), probe.a), await readSector(disk, this.#id(), probe.b)];
        return sameBytes(a, b) ? 'same' : 'different';
      }
      case 'byte-count':
        return countByte(await readSector(disk, this.#id(), probe.sector), probe.byte);
      case 'job': {
        const job = this.#job;
        if (!job) throw new LessonError('no block job has run in this lesson yet');
        if (probe.fact === 'state') return (await disk.listJobs()).find((j) => j.id === job.id)?.state ?? 'gone';
        if (!job.atReady) throw new LessonError('the job never became ready');
        const { bytesDone, bytesTotal } = job.atReady;
        if (probe.fact === 'done-at-ready') return bytesDone;
        if (probe.fact === 'dirty-at-ready') return bytesTotal - bytesDone;
        return bytesDone - job.sizeBytes;
      }
      case 'fingerprint-match': {
        if (!this.#fingerprint) throw new LessonError('the lesson has not fingerprinted the disk yet');
        return (await fingerprint(disk, this.#id())) === this.#fingerprint ? 'identical' : 'different';
      }
    }
  }

  /** The active stack's layer names and ZERO_FILLED, for 'layers' choices. */
  async layerChoices(): Promise<string[]> {
    return [...(await this.#info()).layers.map((l) => l.name), ZERO_FILLED];
  }

  async #info(): Promise<StackInfo> {
    return this.#env().lab.client.disk.stackInfo(this.#id());
  }

  /** Closes the stacks this session opened (starting over, or leaving without free play). */
  async closeAll(): Promise<void> {
    const { lab } = this.#env();
    for (const id of this.stacks.values()) await lab.close(id);
    this.stacks.clear();
    this.#active = undefined;
    // A mirror's copy is only the lesson's: once its stack is closed it would just fill the library.
    for (const name of this.#images.splice(0)) await lab.client.disk.deleteImage(name).catch(() => undefined);
  }
}

async function fetchPublic(file: PublicFile): Promise<Blob> {
  const response = await fetch(file.url);
  if (!response.ok) throw new LessonError(`could not fetch ${file.url}: HTTP ${response.status}`);
  if ((response.headers.get('content-type') ?? '').startsWith('text/html')) throw new LessonError(`${file.url} is missing from public/`);
  return response.blob();
}
