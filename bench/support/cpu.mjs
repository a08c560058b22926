// CPU time by process group, from /proc (Linux only; elsewhere every figure is null): where the
// machine's cycles went during a measurement, per unit of work.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the bench runs on

/** utime and stime of a process, in ms; 0 when it is gone. */
export function cpuSplitOf(pid) {
  try {
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      user: (Number(fields[11]) * 1000) / TICKS_PER_SECOND,
      system: (Number(fields[12]) * 1000) / TICKS_PER_SECOND,
    };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** utime + stime of a process, in ms; 0 when it is gone. */
function cpuMsOf(pid) {
  const { user, system } = cpuSplitOf(pid);
  return user + system;
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
 * The database a PostgreSQL process works for, from its title (`postgres: [15/main: ]user db
 * host(port) state`, `... autovacuum worker db`); undefined for the server's own processes
 * (checkpointer, WAL writer, ...), which work for every database.
 */
function databaseOf(pid) {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return /autovacuum worker (\S+)/.exec(title)?.[1] ?? / \S+ (\S+) (?:\[local\]|\S+\(\d+\))/.exec(title)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * CPU ms so far of: the given processes by name, and of every `postgres` and `redis-server`
 * process, per pid (backends come and go: see cpuDelta). With `database`, PostgreSQL backends of
 * other databases (other runs on the same server) are left out; the server's own processes count.
 */
export function cpuSnapshot(processes, { database } = {}) {
  const snapshot = {};
  for (const [name, pid] of Object.entries(processes)) snapshot[name] = pid === 'self' ? selfMs() : cpuMsOf(pid);
  const ours = (pid) => {
    if (!database) return true;
    const of = databaseOf(pid);
    return of === undefined || of === database;
  };
  snapshot.postgres = new Map(
    pidsNamed('postgres')
      .filter(ours)
      .map((pid) => [pid, cpuMsOf(pid)]),
  );
  snapshot.redis = new Map(pidsNamed('redis-server').map((pid) => [pid, cpuMsOf(pid)]));
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
