import { aggregate, FINAL_WINDOW, labelOf, type AggregateOptions, type NetworkReport, type Stat } from './aggregate.js';
import { shownPath, type RunData } from './read-run.js';
import { verdicts, WELL_BELOW, type Verdicts } from './verdict.js';

/** What `resnet-exp report --json` prints; the text report shows the same. Errors are fractions. */
export interface Report {
  runs: { dir: string; name: string | null; seeds: number[] }[];
  definitions: {
    /** Final training error: step-weighted mean of train_error over this last share of each run's iterations. */
    final_window: number;
    /** Margin in error (fraction) a deeper shortcut net must beat the deeper plain net by for "partly". */
    well_below: number;
    std: 'sample (n-1) over seeds; null with one seed';
  };
  networks: NetworkReport[];
  verdicts: Verdicts;
  warnings: string[];
}

export function buildReport(runs: readonly RunData[], cwd = process.cwd(), options: AggregateOptions = {}): Report {
  const { networks, warnings } = aggregate(runs, cwd, options);
  return {
    runs: runs.map((r) => ({ dir: r.dir, name: r.name ?? null, seeds: [...new Set(r.rows.map((row) => row.seed))].sort((a, b) => a - b) })),
    definitions: { final_window: FINAL_WINDOW, well_below: WELL_BELOW, std: 'sample (n-1) over seeds; null with one seed' },
    networks,
    verdicts: verdicts(networks),
    warnings,
  };
}

const percent = (s: Stat): string =>
  s.mean === null ? '–' : `${(s.mean * 100).toFixed(2)}${s.std === null ? '' : ` ± ${(s.std * 100).toFixed(2)}`}`;
const stepText = (s: Stat): string =>
  s.mean === null ? '–' : `${Math.round(s.mean)}${s.std === null ? '' : ` ± ${Math.round(s.std)}`}`;
const paramText = (p: number | null): string => (p === null ? '–' : p >= 1e6 ? `${(p / 1e6).toFixed(2)}M` : `${(p / 1e3).toFixed(1)}k`);

/** The report as an aligned table (errors in %) followed by the verdict lines. */
export function formatReport(report: Report, cwd = process.cwd()): string {
  const out: string[] = [];
  for (const r of report.runs) {
    out.push(`run ${shownPath(r.dir, cwd)}${r.name ? ` (${r.name})` : ''}: seed${r.seeds.length > 1 ? 's' : ''} ${r.seeds.join(', ')}`);
  }
  out.push('');
  const header = ['network', 'seeds', 'params', 'final train %', 'final test %', 'best test %', 'best at step'];
  const rows = report.networks.map((n) => [
    `${labelOf(n)}${n.diverged > 0 ? ` (${n.diverged} diverged)` : ''}${n.unfinished > 0 ? ` (${n.unfinished} unfinished)` : ''}`,
    String(n.seeds),
    paramText(n.params),
    percent(n.final_train_error),
    percent(n.final_test_error),
    percent(n.best_test_error),
    stepText(n.best_test_step),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out.push(line(header), ...rows.map(line), '');
  out.push(
    `final train: mean training error over the last ${report.definitions.final_window * 100}% of iterations; ` +
      'final test: at the last evaluation; ± is the standard deviation over seeds.',
    '',
    ...report.verdicts.lines,
  );
  return out.join('\n');
}
