/**
 * Whether libvhdi's Python binding (pyvhdi, Debian's python3-libvhdi) is installed, for oracle
 * tests that read our VHDs with a second, independent implementation. On CI it must be (.ci/run
 * installs python3-libvhdi): there a missing binding fails the test file loudly instead of
 * quietly registering no oracle tests. Locally the caller may skip, printing `reason`.
 *
 * Debian installs the binding for the system interpreter (/usr/bin/python3), which need not be
 * the `python3` first on PATH (pyenv, a venv), so both are tried: the first that imports pyvhdi
 * wins.
 */
import { execFileSync } from 'node:child_process';

export interface LibvhdiProbe {
  /** The interpreter that imports pyvhdi, or undefined when none does. */
  readonly python: string | undefined;
  /** libvhdi's version (pyvhdi.get_version()), or why it is missing. */
  readonly detail: string;
}

const CANDIDATES = ['python3', '/usr/bin/python3'];

let cached: LibvhdiProbe | undefined;

function probe(): LibvhdiProbe {
  const tried: string[] = [];
  for (const python of CANDIDATES) {
    try {
      const version = execFileSync(python, ['-c', 'import pyvhdi; print(pyvhdi.get_version())'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return { python, detail: version.trim() };
    } catch {
      tried.push(python);
    }
  }
  return { python: undefined, detail: `no Python with pyvhdi (tried ${tried.join(', ')}; apt-get install python3-libvhdi)` };
}

/** The probe, run once per process. Throws on CI when pyvhdi is missing. */
export function libvhdiProbe(): LibvhdiProbe {
  cached ??= probe();
  if (cached.python === undefined && process.env['CI'] === 'true') throw new Error(`pyvhdi is required on CI: ${cached.detail}`);
  return cached;
}
