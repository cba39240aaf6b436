// Real peers (tshark, rpcbind, rpcgen, …): found on PATH, or the test fails under CI=true and is passed over otherwise.
import { execFileSync } from 'node:child_process';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Absolute path of `cmd`, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      execFileSync('test', ['-x', `${dir}/${cmd}`]);
      return `${dir}/${cmd}`;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

interface Tap {
  fail(msg: string): void;
  comment(msg: string): void;
}

/**
 * The path of a real program a test needs. When it is missing: under CI a failing assertion (CI must run
 * interop for real), elsewhere a comment, and the caller returns early.
 */
export function requirePeer(t: Tap, cmd: string): string | undefined {
  const p = which(cmd);
  if (p) return p;
  if (IN_CI) t.fail(`${cmd} is not installed: CI=true requires the real peer (scripts/install-peers.sh installs it)`);
  else t.comment(`${cmd} is not installed: interop check not run (CI=true would fail here)`);
  return undefined;
}
