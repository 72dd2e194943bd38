import type { Trainee } from '../../train/lockstep.js';
import type { TextSink } from '../io.js';

export interface TerminalOptions {
  stream: TextSink;
  quiet: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Live progress and colour only on a terminal, and never with NO_COLOR or --quiet. */
export function isLiveTerminal({ stream, quiet, env = process.env }: TerminalOptions): boolean {
  return !quiet && stream.isTTY === true && env.NO_COLOR === undefined;
}

const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '?';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
};

const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '  -  ' : `${(v * 100).toFixed(1)}%`);

/** A compact line per network on stderr, redrawn in place at most a few times a second. */
export class LiveProgress {
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly stream: TextSink,
    private readonly total: number,
  ) {}

  update(step: number, trainees: readonly Trainee[], force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < 250) return;
    this.lastDraw = now;
    const lines = trainees.map((t) => {
      const rate = t.totals.seconds > 0 ? t.totals.images / t.totals.seconds : 0;
      const remainingImages = (this.total - step) * (t.totals.images / Math.max(1, step));
      const eta = t.status === 'training' && rate > 0 ? formatDuration(remainingImages / rate) : t.status;
      return (
        `\x1b[1m${t.net.id.padEnd(13)}\x1b[0m step ${String(step).padStart(6)}/${this.total}` +
        `  train err ${pct(t.lastTrain?.error)}  test err ${pct(t.lastTest?.error)}` +
        `  ${rate.toFixed(1).padStart(7)} img/s  ETA ${eta}`
      );
    });
    this.clear();
    this.stream.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  /** Removes the lines, e.g. before a log line is printed. */
  clear(): void {
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }
}
