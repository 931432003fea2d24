/**
 * How the CLI reports a failure: one line, `disklab: <problem>`, never a stack trace. DiskErrors
 * carry their code in brackets so scripts can tell a corrupt image from a missing file.
 */
import { DiskConfigError, DiskError } from '../core/disk/errors.ts';
import type { CliIo } from './io.ts';

export function describeError(e: unknown): string {
  if (e instanceof DiskError) return `${e.message} [${e.code}]`;
  if (e instanceof DiskConfigError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function reportError(io: CliIo, e: unknown): void {
  const text = describeError(e).replace(/\s*\n\s*/g, ' ');
  io.stderr(`disklab: ${text}\n`);
}

/** A problem with the command line itself; printed like any other error, exit status 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
