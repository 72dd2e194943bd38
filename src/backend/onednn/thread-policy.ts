import { readFileSync } from 'node:fs';

/** Aggregate CPU time of the whole machine, in any unit as long as both fields share it. */
export interface SystemCpu {
  busy: number;
  total: number;
}

/**
 * /proc/stat's first line. Steal (time the hypervisor gave our vCPUs to someone else) counts as busy: it is
 * just as unavailable to us as another process's time.
 */
export function readProcStat(): SystemCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [label, ...fields] = line.trim().split(/\s+/);
    if (label !== 'cpu' || fields.length < 8) return undefined;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return Number.isFinite(busy) ? { busy, total: busy + idle + iowait } : undefined;
  } catch {
    return undefined;
  }
}

/** Threads worth running when other processes keep `otherCores` cores busy (on average) out of `cores`. */
export function threadsFor(cores: number, otherCores: number, maxThreads: number): number {
  return Math.max(1, Math.min(maxThreads, cores - Math.round(Math.max(0, otherCores))));
}

export interface ThreadPolicyClock {
  /** Wall time, ms. */
  now(): number;
  /** This process's CPU time over all its threads, µs. */
  ownCpuMicros(): number;
  system(): SystemCpu | undefined;
}

const realClock: ThreadPolicyClock = {
  now: () => performance.now(),
  ownCpuMicros: () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
  system: readProcStat,
};

/**
 * Matches the thread count to the cores other processes leave free.
 *
 * Why: oneDNN splits each primitive statically over its OpenMP threads and waits for the slowest, so when another
 * process holds a core, a 2-thread step on this 2-core machine ran 4-10x slower than a 1-thread one (measured:
 * ResNet-20 step 2.3 s vs 0.5 s), while on an idle machine 2 threads are 1.6x faster. Every `intervalMs` it takes
 * the machine's busy cores from /proc/stat minus this process's own CPU time (its spinning OpenMP threads
 * included); after two consecutive samples agree on a different count it switches (rebuilding the cached
 * primitives, ~0.1 s), so a brief burst of other work doesn't thrash it.
 */
export class AdaptiveThreads {
  private last: { at: number; own: number; system: SystemCpu } | undefined;
  private proposal: number | undefined;
  private current: number;

  constructor(
    private readonly cores: number,
    private readonly maxThreads: number,
    private readonly apply: (threads: number, previous: number) => void,
    private readonly intervalMs = 3000,
    private readonly clock: ThreadPolicyClock = realClock,
  ) {
    this.current = maxThreads;
  }

  get threads(): number {
    return this.current;
  }

  /** Called from hot kernels: a clock read unless a sample is due. */
  tick(): void {
    const at = this.clock.now();
    if (this.last && at - this.last.at < this.intervalMs) return;
    const system = this.clock.system();
    const own = this.clock.ownCpuMicros();
    const previous = this.last;
    this.last = system ? { at, own, system } : undefined;
    if (!previous || !system) return;
    const wallMicros = (at - previous.at) * 1000;
    const totalDelta = system.total - previous.system.total;
    if (wallMicros <= 0 || totalDelta <= 0) return;
    const busyCores = ((system.busy - previous.system.busy) / totalDelta) * this.cores;
    const ownCores = (own - previous.own) / wallMicros;
    const want = threadsFor(this.cores, busyCores - ownCores, this.maxThreads);
    if (want === this.current) {
      this.proposal = undefined;
    } else if (this.proposal === want) {
      const previous = this.current;
      this.current = want;
      this.proposal = undefined;
      this.apply(want, previous);
    } else {
      this.proposal = want;
    }
  }
}
