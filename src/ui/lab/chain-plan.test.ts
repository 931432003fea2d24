import { describe, expect, it } from 'vitest';
import { isWantedParent, planChains, type DroppedImage } from './chain-plan.ts';

const img = (name: string, ...parentCandidates: string[]): DroppedImage<string> => ({ file: name, name, parentCandidates });
const shape = (plan: ReturnType<typeof planChains<string>>) => plan.map((c) => [c.top.name, c.parents.map((p) => p.name)]);

describe('planChains', () => {
  it('opens the child of a three-file chain dropped in any order, with the others as parents', () => {
    const files = [img('Base.qcow2'), img('top.qcow2', 'mid.qcow2'), img('mid.qcow2', 'base.qcow2')];
    expect(shape(planChains(files))).toEqual([['top.qcow2', ['Base.qcow2', 'mid.qcow2']]]);
    expect(shape(planChains([...files].reverse()))).toEqual([['top.qcow2', ['mid.qcow2', 'Base.qcow2']]]);
  });

  it('hands a child the other files even when the parent between them is missing', () => {
    expect(shape(planChains([img('top.vhd', 'mid.vhd'), img('base.vhd')]))).toEqual([['top.vhd', ['base.vhd']], ['base.vhd', []]]);
  });

  it('matches Windows paths a VHD records by base name', () => {
    const plan = planChains([img('child.vhd', '.\\parent.vhd', 'C:\\VMs\\parent.vhd'), img('PARENT.VHD')]);
    expect(shape(plan)).toEqual([['child.vhd', ['PARENT.VHD']]]);
  });

  it('opens unrelated files each on their own', () => {
    const plan = planChains([img('a.raw'), img('b.vhd'), img('child.qcow2', 'elsewhere.qcow2')]);
    expect(shape(plan)).toEqual([['a.raw', []], ['b.vhd', []], ['child.qcow2', ['a.raw', 'b.vhd']]]);
  });

  it('gives two children of one parent the parent each', () => {
    expect(shape(planChains([img('base.img'), img('x.qcow2', 'base.img'), img('y.qcow2', 'base.img')]))).toEqual([
      ['x.qcow2', ['base.img', 'y.qcow2']],
      ['y.qcow2', ['base.img', 'x.qcow2']],
    ]);
  });

  it('opens every file of a loop, and never makes a file its own parent', () => {
    expect(shape(planChains([img('a.vhd', 'b.vhd'), img('b.vhd', 'a.vhd')]))).toEqual([['a.vhd', []], ['b.vhd', []]]);
    expect(shape(planChains([img('self.qcow2', 'self.qcow2')]))).toEqual([['self.qcow2', []]]);
    expect(planChains([])).toEqual([]);
  });
});

describe('isWantedParent', () => {
  it('compares base names without case', () => {
    expect(isWantedParent('Parent.VHD', 'C:\\vms\\parent.vhd')).toBe(true);
    expect(isWantedParent('parent.vhdx', 'parent.vhd')).toBe(false);
  });
});
