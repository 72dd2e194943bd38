import type { TextSink } from '../io.js';

const MIB = 1024 * 1024;

const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

const eta = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
};

/**
 * One progress line for a download, redrawn in place at most a few times a second. Only for terminals: the
 * caller decides with isLiveTerminal.
 */
export class DownloadBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = performance.now();
  private firstReceived: number | undefined;

  constructor(
    private readonly stream: TextSink,
    private readonly label: string,
    private readonly width = 30,
  ) {}

  update(received: number, total: number | undefined): void {
    const now = performance.now();
    // The rate counts only this session's bytes, not a resumed prefix.
    this.firstReceived ??= received;
    const done = total !== undefined && received >= total;
    if (!done && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? (received - this.firstReceived) / seconds : 0;
    let line: string;
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, received / total);
      const filled = Math.round(frac * this.width);
      line =
        `${this.label} [${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%` +
        ` ${mib(received)}/${mib(total)} MiB ${mib(rate)} MiB/s ETA ${rate > 0 ? eta((total - received) / rate) : '?'}`;
    } else {
      line = `${this.label} ${mib(received)} MiB ${mib(rate)} MiB/s`;
    }
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  /** Removes the line, e.g. before a log line or at the end. */
  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
