/**
 * The lesson contract: a lesson is plain data (one file per lesson under src/ui/lessons/content/),
 * rendered by the one lesson player and driven against the real lab.
 *
 * Promises
 * - A lesson is a list of steps. Each step explains in a few sentences, runs setup actions on the
 *   live engine (open a stack, add or drop an overlay, run a shell line, run a workload, act as a
 *   reservation host), names the panel to look at (by its test id), and may ask one question.
 * - A question's right answer is never stored: it is a `Probe` of live state (which layer served a
 *   sector, bytes a layer holds, a measured workload figure, the reservation holder), read when the
 *   student checks an answer, so the answer is whatever the engine actually did.
 * - Lessons whose engine features are not built yet are listed with `status: 'coming'` and no
 *   steps; they are shown in the index as coming and cannot be started.
 *
 * Errors: `validateLesson` returns a list of problems (empty when the lesson is well formed); it
 * never throws. The player refuses to start a lesson with problems.
 */
import type { DiskSpec } from '../../core/spec.ts';
import type { JobSpec } from '../../core/workload/job.ts';
import type { ReservationOp, SectorView } from '../../../workers/api.ts';

/** A panel of the lab by its test id (what the step highlights). */
export type PanelTestId =
  | 'panel-stack'
  | 'panel-occupancy'
  | 'panel-controller'
  | 'panel-latency'
  | 'panel-hex'
  | 'panel-terminal'
  | 'panel-open'
  | 'panel-images'
  | 'panel-jobs'
  | 'lesson-output'
  | 'lesson-pr-state'
  | 'lesson-job-state';

/** A file under public/ the page fetches for a lesson. */
export interface PublicFile {
  readonly url: string;
  readonly name: string;
}

/** What a lesson opens: a spec as is, a committed image (with its chain), or a raw image built in the page. */
export type StackRecipe =
  | { readonly kind: 'spec'; readonly spec: DiskSpec }
  | { readonly kind: 'image'; readonly file: PublicFile; readonly parents?: readonly PublicFile[] }
  | { readonly kind: 'raw-pattern'; readonly name: string; readonly sizeBytes: number; readonly fills: readonly RawFill[] };

export interface RawFill {
  readonly offset: number;
  readonly length: number;
  readonly byte: number;
}

export type LessonAction =
  /** Opens a stack under `name` (the lesson refers to it by this name) and makes it the active one. */
  | { readonly kind: 'open'; readonly name: string; readonly stack: StackRecipe }
  /** Makes a stack the lesson opened earlier the active one. */
  | { readonly kind: 'select'; readonly name: string }
  /** Adds an empty RAM diff on the active stack. */
  | { readonly kind: 'add-ram-diff' }
  /** Removes the topmost removable overlay of the active stack (dropping what it held). */
  | { readonly kind: 'drop-top-overlay' }
  /** One line of the terminal language on the active stack. */
  | { readonly kind: 'shell'; readonly line: string }
  /** A fio-like job on the active stack through the emulated controller; a refused job is an outcome, not a failure. */
  | { readonly kind: 'workload'; readonly job: JobSpec; readonly queues?: number; readonly depth?: number }
  /** A persistent-reservation command (or a read/write) as host `host`; a conflict is an outcome, not a failure. */
  | { readonly kind: 'pr'; readonly host: string; readonly op: ReservationOp }
  /** Remembers the active stack's HTTP statistics: 'url-stat' probes with `since: 'mark'` count from here. */
  | { readonly kind: 'url-mark' }
  /** Adds an XTS-AES crypt overlay keyed by a 64-byte key file made from `keySeed` (plain dm-crypt, no header). */
  | { readonly kind: 'add-crypt'; readonly keySeed: number }
  /**
   * Starts a mirror of the active stack into a new OPFS image (a unique name from `target`) at
   * `speedLimit` bytes/s, runs `workload` on the stack meanwhile, and waits until the mirror is
   * ready and the workload has ended (the mirror keeps following writes until completed).
   */
  | { readonly kind: 'mirror'; readonly target: string; readonly speedLimit: number; readonly workload: JobSpec }
  /** Completes the lesson's mirror (switching the stack to the copy) and waits for it to end. */
  | { readonly kind: 'complete-job' }
  /** Remembers a SHA-256 of the active stack's whole content, for a 'fingerprint-match' probe. */
  | { readonly kind: 'fingerprint' };

/** One sector at one level of the active stack. */
export interface SectorRef {
  readonly lba: number;
  readonly view: SectorView;
}

/** Live state a question is checked against. */
export type Probe =
  /** The name of the layer that serves `lba` of the active stack, or ZERO_FILLED. */
  | { readonly kind: 'source-layer'; readonly lba: number }
  /** Bytes layer `layer` (0 = top) of the active stack holds. */
  | { readonly kind: 'layer-bytes'; readonly layer: number }
  | { readonly kind: 'stack-fact'; readonly fact: 'sectorSize' | 'sectorCount' | 'sizeBytes' }
  /** The size of the image file a stack was opened from. */
  | { readonly kind: 'file-bytes'; readonly stack: string }
  /** Runs a shell line on the active stack and captures group 1 of `match` (a number if it parses as one). */
  | { readonly kind: 'shell'; readonly line: string; readonly match: string }
  /** A figure of the last workload: 'outcome' is 'completed' or 'refused'; latencies in ms; 'little' is IOPS x mean latency. */
  | { readonly kind: 'workload'; readonly metric: 'iops' | 'mean-latency-ms' | 'p99-ms' | 'little' | 'outcome' }
  /** For a striped stack: bytes the top layer of member `member` holds. */
  | { readonly kind: 'member-bytes'; readonly member: number }
  /** For a striped stack: 'member N' for the member whose top layer holds most. */
  | { readonly kind: 'busiest-member' }
  /** Reservation state: the holder's host, or the outcome of the last reservation action ('ok' or an error code). */
  | { readonly kind: 'pr'; readonly fact: 'holder' | 'last-outcome' }
  /** A statistic of the active stack's HTTP source (the image's), in total or since the last 'url-mark'; read once no request is in flight. */
  | { readonly kind: 'url-stat'; readonly stat: 'requests' | 'bytes-fetched' | 'bytes-served' | 'hit-ratio' | 'chunk-size'; readonly since?: 'mark' }
  /** 'same' or 'different': the bytes of two sectors. */
  | { readonly kind: 'sectors-compare'; readonly a: SectorRef; readonly b: SectorRef }
  /** How many bytes of a sector equal `byte`. */
  | { readonly kind: 'byte-count'; readonly sector: SectorRef; readonly byte: number }
  /**
   * The lesson's mirror: its state now, bytes done when it first became ready, bytes still dirty
   * then (total minus done), and bytes copied beyond the disk's size by then (re-copies).
   */
  | { readonly kind: 'job'; readonly fact: 'state' | 'done-at-ready' | 'dirty-at-ready' | 'recopied-at-ready' }
  /** 'identical' or 'different': the active stack's content now against the last 'fingerprint'. */
  | { readonly kind: 'fingerprint-match' };

export const ZERO_FILLED = 'no layer (zeroes)';

export type Question =
  | {
      readonly kind: 'choice';
      readonly prompt: string;
      /** The choices; 'layers' lists the active stack's layers (and ZERO_FILLED) when the step runs. */
      readonly options: readonly string[] | 'layers';
      readonly probe: Probe;
    }
  | {
      readonly kind: 'number';
      readonly prompt: string;
      readonly unit?: string;
      readonly probe: Probe;
      /** Accepted distance from the live value: relative (0.1 = 10%) and/or absolute; exact when neither. */
      readonly tolerance?: { readonly relative?: number; readonly absolute?: number };
      /** Shown after a wrong answer: how to work it out. */
      readonly hint?: string;
    };

export interface LessonStep {
  readonly title: string;
  /** Two or three sentences. */
  readonly text: string;
  readonly actions?: readonly LessonAction[];
  readonly panel?: PanelTestId;
  readonly question?: Question;
  /** A command to try outside the page (the CLI), shown as code. */
  readonly cli?: string;
  /** This step's screenshot stands for the lesson (e2e). */
  readonly key?: boolean;
}

export interface Lesson {
  /** The deep-link id: ?lesson=<id>. */
  readonly id: string;
  readonly number: number;
  readonly title: string;
  readonly summary: string;
  /** The real-world system the lesson mirrors, cited in the player. */
  readonly mirrors: string;
  readonly status: 'ready' | 'coming';
  /** For a coming lesson: what it waits for. */
  readonly waitsFor?: string;
  readonly steps: readonly LessonStep[];
}

const ID = /^[a-z][a-z0-9-]*$/;

/** Problems with a lesson's data; empty when it is well formed. */
export function validateLesson(lesson: Lesson): string[] {
  const problems: string[] = [];
  const at = (i: number) => `${lesson.id} step ${i + 1}`;
  if (!ID.test(lesson.id)) problems.push(`lesson id '${lesson.id}' must be kebab-case`);
  if (!lesson.title.trim()) problems.push(`${lesson.id}: no title`);
  if (!lesson.mirrors.trim()) problems.push(`${lesson.id}: must cite the system it mirrors`);
  if (lesson.status === 'coming') {
    if (lesson.steps.length > 0) problems.push(`${lesson.id}: a coming lesson has no steps yet`);
    if (!lesson.waitsFor) problems.push(`${lesson.id}: a coming lesson says what it waits for`);
    return problems;
  }
  if (lesson.steps.length === 0) problems.push(`${lesson.id}: a ready lesson needs steps`);
  const opened = new Set<string>();
  let active = false;
  lesson.steps.forEach((step, i) => {
    if (!step.title.trim() || !step.text.trim()) problems.push(`${at(i)}: title and text are required`);
    const sentences = step.text.split(/[.!?](\s|$)/).filter((s) => s.trim().length > 0).length;
    if (sentences > 4) problems.push(`${at(i)}: ${sentences} sentences; keep it to two or three`);
    for (const action of step.actions ?? []) {
      if (action.kind === 'open') {
        opened.add(action.name);
        active = true;
      } else if (action.kind === 'select') {
        if (!opened.has(action.name)) problems.push(`${at(i)}: selects '${action.name}' before opening it`);
      } else if (!active) {
        problems.push(`${at(i)}: '${action.kind}' needs a stack opened by an earlier action`);
      }
      if (action.kind === 'shell' && !action.line.trim()) problems.push(`${at(i)}: empty shell line`);
    }
    const q = step.question;
    if (q) {
      if (!q.prompt.trim()) problems.push(`${at(i)}: question without a prompt`);
      if (q.kind === 'choice' && q.options !== 'layers' && q.options.length < 2) problems.push(`${at(i)}: a choice needs at least two options`);
      if (q.kind === 'number') {
        const t = q.tolerance;
        if (t && ((t.relative ?? 0) < 0 || (t.absolute ?? 0) < 0)) problems.push(`${at(i)}: negative tolerance`);
      }
      if (q.probe.kind === 'file-bytes' && !opened.has(q.probe.stack)) problems.push(`${at(i)}: file-bytes of '${q.probe.stack}', which is not opened`);
      if (q.probe.kind === 'shell') {
        try {
          new RegExp(q.probe.match);
          if (!/\((?!\?)/.test(q.probe.match)) problems.push(`${at(i)}: shell probe needs a capture group`);
        } catch {
          problems.push(`${at(i)}: shell probe pattern is not a regular expression`);
        }
      }
      if (!active) problems.push(`${at(i)}: a question needs a stack opened by then`);
    }
  });
  return problems;
}
