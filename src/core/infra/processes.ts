// Small process helpers for the embedded servers: stale pid files, waiting, traversable paths.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * A previous run killed with SIGKILL leaves its server child running. If the pid file names a live
 * process whose command line contains `expected`, stop it and wait for it to go.
 */
export async function stopLeftover(pidFile: string, expected: string, signal: NodeJS.Signals): Promise<boolean> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0], 10);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid) || !commandLineOf(pid).includes(expected)) return false;
  process.kill(pid, signal);
  for (let waited = 0; waited < 15000 && isAlive(pid); waited += 100) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

/**
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user, which must
 * be able to reach its data directory: give every ancestor the search bit (not the read bit).
 * Returns the directories changed.
 */
export function makeTraversable(path: string): string[] {
  const changed: string[] = [];
  let current = dirname(resolve(path));
  while (current !== dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, (mode & 0o7777) | 0o001);
      changed.push(current);
    }
    current = dirname(current);
  }
  return changed;
}
