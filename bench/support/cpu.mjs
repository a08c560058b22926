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
 * CPU ms so far of: the given processes by name, every `postgres` process (backends come and go,
 * so the sum over live ones is read at both ends; a backend that ended between the two readings
 * is missed) and `redis-server`.
 */
export function cpuSnapshot(processes) {
  const snapshot = {};
  for (const [name, pid] of Object.entries(processes)) snapshot[name] = pid === 'self' ? selfMs() : cpuMsOf(pid);
  for (const [name, command] of [
    ['postgres', 'postgres'],
    ['redis', 'redis-server'],
  ]) {
    snapshot[name] = pidsNamed(command).reduce((sum, pid) => sum + cpuMsOf(pid), 0);
  }
  return snapshot;
}

const selfMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** CPU ms per unit of work between two snapshots, by process group. */
export function cpuPer(before, after, units) {
  return Object.fromEntries(Object.keys(after).map((name) => [name, (after[name] - before[name]) / units]));
}
