/**
 * resnet-exp as a library: what the CLI calls, for scripts and notebooks. Configs are validated by the zod schema;
 * runs write the same run folders `resnet-exp run` writes; bad input comes back as Result values or InputError.
 *
 *   import { loadConfig, runExperiment, loadRuns, buildReport, formatReport } from 'resnet-exp';
 */

export { err, InputError, ok, type Result } from './result.js';

// Configs: file + overrides → a validated Config.
export {
  BACKENDS,
  configDepths,
  configSchema,
  configSeeds,
  loadConfig,
  parseSet,
  validateConfig,
  type BackendName,
  type Config,
  type ConfigSources,
  type Override,
  type Variant,
} from './config/index.js';

// Training: a whole run into a run folder, and its continuation from the latest checkpoint.
export { runExperiment, type RunRequest } from './train/run.js';
export { resumeExperiment, type ResumeRequest } from './train/resume.js';
export { trainStep, type StepResult } from './train/step.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { Sgd, type SgdOptions } from './train/sgd.js';
export type { RunLogger } from './train/run-logger.js';

// The run record: a run folder's files and their formats.
export { defaultRunDir, readConfigJson, readRunConfig, readSummary, RunFolder, runPaths, RUN_FILES, type RunPaths } from './record/run-folder.js';
export { runSummarySchema, type NetworkSummary, type RunSummary } from './record/summary.js';
export { METRICS_COLUMNS, metricsRowSchema, type MetricsRow } from './record/metrics-csv.js';
export { readDiagnosticsCsv, type DiagnosticsRow } from './record/diagnostics-csv.js';
export { readSweepFile, type SweepFile } from './record/sweep-file.js';

// Reporting: runs (or sweep folders) → per-network statistics, verdicts, curves and figures.
export { loadRuns, readMetricsCsv, readRun, type RunData } from './report/read-run.js';
export { aggregate, curves, replicates, type Aggregate, type CurvePoint, type NetworkReport } from './report/aggregate.js';
export { buildReport, formatReport, type Report } from './report/report.js';
export { verdicts, type Verdicts } from './report/verdict.js';
export { renderFigure, type FigureFormat, type FigureOptions } from './report/plot.js';

// Sweeps: a grid of configs, one run folder each.
export { planSweep, type PlannedRun, type SweepPlan, type SweepSpec } from './sweep/plan.js';
export { executeSweep, type ExecuteOptions, type RunOutcome } from './sweep/execute.js';

// Networks, backends, data.
export { buildNetwork, networkId, totalCost, type Network, type NetworkSpec } from './models/index.js';
export { chooseBackend, probeBackends, type BackendChoice, type BackendStatus } from './backend/select.js';
export { describeInput, loadDataset, type LoadedData } from './data/index.js';
export { fetchRelease, resolveFetchSource, type FetchReport } from './data/fetch.js';
export { runBench, type BenchResult } from './bench/run.js';
export { benchOptionsSchema, type BenchOptions } from './bench/options.js';

// The command line itself, on any streams (see src/cli/io.ts).
export { cli, main } from './cli/main.js';
export { processIo, type CliIo, type TextSink } from './cli/io.js';
