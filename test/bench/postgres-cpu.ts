// CPU of PostgreSQL's processes (the postmaster whose command line names our data directory,
// and its children), read from /proc; zero where /proc is not there. Shared by the suites
// that compare the server's CPU with the database's.
import { readdir, readFile } from 'node:fs/promises';

export async function postgresCpuSeconds(dataDir: string): Promise<number> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return 0;
  }
  const stats = new Map<number, { ppid: number; cpu: number }>();
  let postmaster = -1;
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command: state(0) ppid(1) ... utime(11) stime(12), in clock ticks.
      stats.set(Number(pid), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / 100 });
      if (postmaster < 0) {
        const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes(dataDir) && cmd.includes('postgres')) postmaster = Number(pid);
      }
    } catch {
      // The process went away meanwhile.
    }
  }
  if (postmaster < 0) return 0;
  let total = 0;
  for (const [pid, s] of stats) if (pid === postmaster || s.ppid === postmaster) total += s.cpu;
  return total;
}
