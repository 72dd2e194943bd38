import type { Logger } from 'pino';
import { chooseBackend } from '../backend/select.js';
import { dataProblem } from '../data/load.js';
import { lockHolder } from '../record/lock.js';
import type { RunLogger } from '../train/run-logger.js';
import type { RunSummary } from '../record/summary.js';
import { err, InputError, ok, type Result } from '../result.js';
import { latestCheckpoint } from '../train/checkpoint.js';
import { readRunConfig, resumeExperiment } from '../train/resume.js';
import { runExperiment, type RunRequest } from '../train/run.js';
import { runState, setAsideAttempt, type PlannedRun, type SweepPlan } from './plan.js';
import { firstDifference } from '../record/sweep-file.js';

/**
 * What happened to one combination: `completed` (ran now), `skipped` (completed by an earlier attempt),
 * `failed`, `interrupted` (stopped by a signal), `not-run` (after an interruption).
 */
export type RunStatus = 'completed' | 'skipped' | 'failed' | 'interrupted' | 'not-run';

export interface RunOutcome {
  index: number;
  /** Absolute run folder. */
  folder: string;
  status: RunStatus;
  /** Why it failed. */
  reason?: string;
  summary?: RunSummary;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

const describe = (run: PlannedRun): string => run.assignments.map((a) => `${a.key}=${a.text}`).join(' ');

/**
 * The checks a run makes of its input before training (data present, backend usable), made for every
 * combination about to run, so that a sweep with bad input stops before its first run rather than at its fifth.
 */
export async function preflight(runs: readonly PlannedRun[]): Promise<Result<void, string[]>> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    const { config } = run;
    const checks: [string, () => Promise<string | undefined>][] = [
      [
        `data:${config.data.source}:${config.data.dir ?? ''}`,
        async () => dataProblem(config.data),
      ],
      [
        `backend:${config.backend}`,
        async () => {
          const choice = await chooseBackend(config.backend);
          return choice.ok ? undefined : choice.error;
        },
      ],
    ];
    for (const [key, check] of checks) {
      if (seen.has(key)) continue;
      seen.add(key);
      const problem = await check();
      if (problem) problems.push(`combination ${run.index} (${describe(run)}): ${problem}`);
    }
  }
  return problems.length > 0 ? err(problems) : ok(undefined);
}

/**
 * Why an unfinished attempt can't be continued, or `undefined` when it can: it was started with this
 * combination's config and left a complete checkpoint.
 */
function whyNotResumable(run: PlannedRun, warn: (message: string) => void): string | undefined {
  let recorded: ReturnType<typeof readRunConfig>;
  try {
    recorded = readRunConfig(run.dir);
  } catch (e) {
    return firstLine(e);
  }
  const difference = firstDifference({ ...recorded.config, out: run.dir }, run.config);
  if (difference) return `its config differs: ${difference}`;
  const found = latestCheckpoint(run.dir, recorded, warn);
  if (!found.ok) return found.error;
  return found.value ? undefined : 'no complete checkpoint';
}

export interface ExecuteOptions {
  plan: SweepPlan;
  /** The combinations to run, in order. */
  indices: readonly number[];
  /** Sweep-level messages. */
  log: Logger;
  /** A logger for one run: stderr, and the run folder's log.jsonl once it exists. */
  runLogger(run: PlannedRun): RunLogger;
  onStep?(run: PlannedRun): RunRequest['onStep'];
  /** True once the user asked to stop: the current run ends after its step and no further one starts. */
  shouldStop(): boolean;
}

/**
 * Runs the combinations one after another in this process. Each run gets exactly the state a fresh
 * `resnet-exp run` would: measured, the metrics of in-process runs match those of separate processes bit for
 * bit, across backends, without growth in tensors or memory. A combination completed earlier is skipped, one
 * interrupted earlier is resumed from its checkpoint (or started over without one); one that fails keeps the
 * sweep going.
 */
export async function executeSweep(options: ExecuteOptions): Promise<RunOutcome[]> {
  const { plan, indices, log } = options;
  const outcomes: RunOutcome[] = [];
  for (const [position, index] of indices.entries()) {
    const run = plan.runs[index];
    const tag = `[${position + 1}/${indices.length}] combination ${index} (${describe(run)})`;
    if (options.shouldStop()) {
      outcomes.push({ index, folder: run.dir, status: 'not-run' });
      continue;
    }
    const state = runState(run.dir);
    if (state.kind === 'completed') {
      log.info(`${tag}: already completed in ${run.dir}, skipped`);
      outcomes.push({ index, folder: run.dir, status: 'skipped', summary: state.summary });
      continue;
    }
    // Another process (a second sweep over the same folder, a duplicated array task) is running it: moving its
    // folder aside or starting over in it would mix two runs.
    const holder = lockHolder(run.dir);
    if (holder) {
      const reason = `${run.dir} is in use by another resnet-exp process (pid ${holder.pid}); left alone`;
      log.error(`${tag}: ${reason}`);
      outcomes.push({ index, folder: run.dir, status: 'failed', reason });
      continue;
    }
    let resume = false;
    if (state.kind === 'incomplete') {
      const why = whyNotResumable(run, (message) => log.warn(`${tag}: ${message}`));
      if (why === undefined) {
        resume = true;
        log.info(`${tag}: an earlier attempt did not complete (${state.reason}); resuming it from its latest checkpoint`);
      } else {
        const moved = setAsideAttempt(plan, run);
        log.warn(`${tag}: an earlier attempt did not complete (${state.reason}) and can't be resumed (${why}); moved it to ${moved} and starting over`);
      }
    }
    if (!resume) log.info(`${tag}: running into ${run.dir}`);
    const logger = options.runLogger(run);
    try {
      const hooks = { log: logger.log, logToFile: logger.addFile, onStep: options.onStep?.(run), shouldStop: options.shouldStop };
      const summary = resume ? await resumeExperiment({ runDir: run.dir, ...hooks }) : await runExperiment({ config: run.config, ...hooks });
      const status = summary.status === 'completed' ? 'completed' : 'interrupted';
      outcomes.push({ index, folder: run.dir, status, summary });
      if (status === 'interrupted') log.warn(`${tag}: interrupted after ${summary.steps_completed} iterations`);
      else log.info(`${tag}: completed in ${summary.wall_seconds.toFixed(1)} s`);
    } catch (e) {
      const reason = firstLine(e);
      // Through the run's logger: once on stderr, and into the run's log.jsonl when it got that far.
      logger.log.error({ err: e }, `${tag}: failed: ${reason}`);
      outcomes.push({ index, folder: run.dir, status: 'failed', reason });
    } finally {
      logger.flush();
    }
  }
  return outcomes;
}
