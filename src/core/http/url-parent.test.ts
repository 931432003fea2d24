import { describe, expect, it } from 'vitest';
import { resolveBeside } from './url-parent.ts';

describe('resolveBeside', () => {
  it('resolves a recorded file name against the child URL like a relative URL, encoding the name', () => {
    const base = 'https://cdn.example/images/vm%201/child.vhd?sig=abc';
    expect(resolveBeside(base, 'parent.vhd')).toBe('https://cdn.example/images/vm%201/parent.vhd');
    expect(resolveBeside(base, './base disk.vhd')).toBe('https://cdn.example/images/vm%201/base%20disk.vhd');
    expect(resolveBeside(base, '../common/base.vhd')).toBe('https://cdn.example/images/common/base.vhd');
    expect(resolveBeside(base, '../../../../x.vhd')).toBe('https://cdn.example/x.vhd');
    expect(resolveBeside(base, '/srv/base#1.qcow2')).toBe('https://cdn.example/srv/base%231.qcow2');
    expect(resolveBeside('http://h:8080', 'a.vhd')).toBe('http://h:8080/a.vhd');
    expect(resolveBeside('file:///tmp/a.vhd', 'b.vhd')).toBeUndefined();
  });
});
