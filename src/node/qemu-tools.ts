/**
 * Whether QEMU's image tools (qemu-img, qemu-io) are installed, for oracle tests that compare our
 * readers with them. On CI they must be (.ci/run installs qemu-utils): there a missing tool
 * fails the test file loudly instead of quietly registering no oracle tests.
 */
import { execFileSync } from 'node:child_process';

function installed(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function qemuToolsAvailable(): boolean {
  const available = installed('qemu-img') && installed('qemu-io');
  if (!available && process.env['CI'] === 'true') throw new Error('qemu-img/qemu-io are required on CI (install qemu-utils)');
  return available;
}
