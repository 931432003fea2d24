/**
 * The shipped lessons against the real engine in Node: each step's actions run through a
 * LessonSession on LiveStacks (the disk worker's own stack class) behind a minimal stand-in for
 * the page's Lab, and each question's probe must read the answer worked out here by hand from the
 * lesson's text. A lesson whose text and engine disagree fails here before it fails a student.
 * Reservations (a disk-worker call) and the timed queue-depth runs are covered by e2e/lessons.spec.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskError } from '../../core/disk/errors.ts';
import type { SpecPlatform } from '../../core/resolve-spec.ts';
import type { DiskSpec } from '../../core/spec.ts';
import type { JobSpec } from '../../core/workload/job.ts';
import type { WorkloadResult } from '../../core/workload/results.ts';
import type { ControllerOptions, StackInfo, OverlaySpec } from '../../../workers/api.ts';
import { StackControllers } from '../../../workers/controller/stack-controllers.ts';
import { BlobRangeSource } from '../../../workers/platform/blob-range-source.ts';
import { browserInflate } from '../../../workers/platform/browser-inflate.ts';
import { LiveStack } from '../../../workers/stack/live-stack.ts';
import type { Lab } from '../lab/lab-context.tsx';
import type { WorkloadRunner } from '../workload/workload-runner.ts';
import { checkAnswer, formatLive, type LiveValue } from './answer-check.ts';
import { blocksLesson } from './content/blocks.ts';
import { chainsLesson } from './content/chains.ts';
import { cowLesson } from './content/cow.ts';
import { formatsLesson } from './content/formats.ts';
import { stripingLesson } from './content/striping.ts';
import { ZERO_FILLED, type Lesson } from './lesson.ts';
import { LessonSession, memberBytes, rawPattern } from './lesson-session.ts';

// The UI project has no Node types; the test runs in Node under Vitest, so fs is loaded by name.
const FS = 'node:fs';
const { readFileSync } = (await import(/* @vite-ignore */ FS)) as { readFileSync(path: string): Uint8Array<ArrayBuffer> };

const platform: SpecPlatform = {
  openFile: () => Promise.reject(new DiskError('UNSUPPORTED', 'no OPFS in Node')),
  blobSource: (blob, name) => new BlobRangeSource(blob, name),
  inflate: browserInflate,
};

/** Just enough of the page's Lab and WorkloadRunner, over LiveStacks as the disk worker keeps them. */
function fakeEnv(): { lab: Lab; runner: WorkloadRunner; open: () => number } {
  const stacks = new Map<string, { stack: LiveStack; controllers: StackControllers }>();
  let next = 1;
  const get = (id: string) => stacks.get(id) ?? (() => { throw new DiskError('INVALID_INPUT', `no stack ${id}`); })();
  const disk = {
    async openStack(spec: DiskSpec, name: string) {
      const id = `s${next++}`;
      const stack = await LiveStack.open(id, name, spec, platform);
      stacks.set(id, { stack, controllers: new StackControllers(stack.switchable, name) });
      return stack.info();
    },
    stackInfo: async (id: string) => get(id).stack.info(),
    addOverlay: (id: string, o: OverlaySpec) => get(id).stack.addOverlay(o),
    removeOverlay: (id: string, node: string) => get(id).stack.removeOverlay(node),
    readSectors: (id: string, lba: number, count: number) => get(id).stack.readSectors(lba, count),
    runShell: (id: string, line: string) => get(id).stack.runShell(line),
    runWorkloadInline: (id: string, options: ControllerOptions, job: JobSpec) => get(id).controllers.runInline(options, job),
  };
  const lab = {
    client: { disk },
    stacks: [],
    openOrThrow: (spec: DiskSpec, name: string) => disk.openStack(spec, name),
    async close(id: string) {
      await get(id).stack.close();
      stacks.delete(id);
    },
    select: () => undefined,
    update: (_info: StackInfo) => undefined,
    refresh: async () => undefined,
  } as unknown as Lab;
  let view: { result?: WorkloadResult; error?: string } = {};
  const runner = {
    async start(id: string, job: JobSpec, options: ControllerOptions) {
      try {
        view = { result: await disk.runWorkloadInline(id, options, job) };
      } catch (error) {
        view = { error: String(error) };
      }
    },
    getView: () => view,
  } as unknown as WorkloadRunner;
  return { lab, runner, open: () => stacks.size };
}

afterEach(() => vi.unstubAllGlobals());

/** Serves the page's public/ folder to the session's fetches. */
function servePublic(): void {
  vi.stubGlobal('fetch', async (url: string) => new Response(readFileSync(`public${url}`), { headers: { 'content-type': 'application/octet-stream' } }));
}

/** Runs every step and returns what each question's probe read (undefined for steps without one). */
async function walk(lesson: Lesson): Promise<{ values: (LiveValue | undefined)[]; session: LessonSession; env: ReturnType<typeof fakeEnv> }> {
  servePublic();
  const env = fakeEnv();
  const session = new LessonSession(() => env);
  const values: (LiveValue | undefined)[] = [];
  for (const step of lesson.steps) {
    for (const action of step.actions ?? []) await session.run(action);
    const q = step.question;
    const live = q ? await session.probe(q.probe) : undefined;
    if (q && live !== undefined) {
      expect(checkAnswer(q, formatLive(live), live).right, `${lesson.id}: ${q.prompt}`).toBe(true);
      if (q.kind === 'choice') expect(q.options === 'layers' ? await session.layerChoices() : q.options).toContain(live);
    }
    values.push(live);
  }
  return { values, session, env };
}

describe('the shipped lessons on the real engine', () => {
  it('blocks and sectors: LBA from offset, 4096-byte sectors, read-modify-write, the refused job', async () => {
    const { values } = await walk(blocksLesson);
    expect(values).toEqual([3, 256, 2, 'refused']);
  });

  it('copy-on-write: base, diff after a write, bytes held, read-through, reset', async () => {
    const { values } = await walk(cowLesson);
    const base = 'disk layer (vhd-fixed)';
    expect(values).toEqual([base, 'RAM diff layer', 4096, base, base, undefined]);
  });

  it('image formats: file sizes and the same data read back from qcow2', async () => {
    const { values } = await walk(formatsLesson);
    expect(values).toEqual([16 << 20, 16781312, readFileSync('public/lessons/disk.qcow2').length, 'a5']);
  });

  it('differencing chains: mid holds 256 KiB; top, mid and nobody serve LBAs 700, 300 and 4000', async () => {
    const { values } = await walk(chainsLesson);
    expect(values).toEqual([256 * 1024, 'top.qcow2 (qcow2, child)', 'mid.qcow2 (qcow2, parent)', ZERO_FILLED, undefined]);
  });

  it('striping: chunk 2 on member 2, chunk 6 on member 0, an even sequential load', async () => {
    const { values, session, env } = await walk(stripingLesson);
    expect(values).toEqual(['member 2', 'member 0', 80 * 1024]);
    // Reopening the stripe closed the old one: one stack is left, and every member got a third.
    expect(env.open()).toBe(1);
    const info = await env.lab.client.disk.stackInfo(session.activeStack!);
    expect(memberBytes(info.tree)).toEqual([80 * 1024, 80 * 1024, 80 * 1024]);
  });

  it('closeAll closes what the lesson opened', async () => {
    const { session, env } = await walk(formatsLesson);
    expect(env.open()).toBe(3);
    await session.closeAll();
    expect(env.open()).toBe(0);
    await expect(session.probe({ kind: 'stack-fact', fact: 'sectorSize' })).rejects.toThrow('no stack is open');
  });
});

describe('rawPattern', () => {
  it('is zeroes with the fills, as the raw image of lesson 3', () => {
    const bytes = rawPattern(16, [{ offset: 2, length: 3, byte: 7 }, { offset: 10, length: 1, byte: 0xff }]);
    expect([...bytes]).toEqual([0, 0, 7, 7, 7, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0]);
  });
});
