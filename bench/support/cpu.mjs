// CPU time by process group, from /proc (Linux only; elsewhere every figure is null): where the
// machine's cycles went during a measurement, per unit of work.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the bench runs on

/** utime + stime of a process, in ms; 0 when it is gone. */
function cpuMsOf(pid) {
  try {
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function pidsNamed(command) {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command;
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/**
 * CPU ms so far of: the given processes by name, and of every `postgres` and `redis-server`
 * process, per pid (backends come and go: see cpuDelta).
 */
export function cpuSnapshot(processes) {
  const snapshot = {};
  for (const [name, pid] of Object.entries(processes)) snapshot[name] = pid === 'self' ? selfMs() : cpuMsOf(pid);
  for (const [name, command] of [
    ['postgres', 'postgres'],
    ['redis', 'redis-server'],
  ]) {
    snapshot[name] = new Map(pidsNamed(command).map((pid) => [pid, cpuMsOf(pid)]));
  }
  return snapshot;
}

const selfMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * CPU ms spent between two snapshots, by name. For a group, the processes alive at the second
 * reading count (one started in between counts all its time); one that ended in between is
 * missed, rather than subtracted.
 */
export function cpuDelta(before, after) {
  return Object.fromEntries(
    Object.entries(after).map(([name, value]) => {
      if (!(value instanceof Map)) return [name, value - before[name]];
      let ms = 0;
      for (const [pid, now] of value) ms += now - (before[name]?.get(pid) ?? 0);
      return [name, ms];
    }),
  );
}
