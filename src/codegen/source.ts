// Shared plumbing of the .x front end: source positions, diagnostics collection, file access.

import { readFileSync } from 'node:fs';
import type { Diagnostic, Pos } from './ast.js';

/** Reads an included (or top-level) file; throws when it cannot (the message becomes a diagnostic). */
export type ReadFile = (path: string) => string;

/** Reads a file from disk as UTF-8. */
export const readFileFromDisk: ReadFile = (path) => readFileSync(path, 'utf8');

/** Collects diagnostics in the order they are found. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  error(pos: Pos, message: string): void {
    this.list.push({ severity: 'error', message, pos });
  }
  warning(pos: Pos, message: string): void {
    this.list.push({ severity: 'warning', message, pos });
  }
  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === 'error');
  }
}

/** `file:line:col`, for messages that point at a second place ("first defined at …"): src/errors.ts's formatter. */
export { formatSourcePos as formatPos } from '../errors.js';
