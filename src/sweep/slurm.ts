import { err, ok, type Result } from '../result.js';
import { shellJoin, shellQuote } from './shell.js';

/** Resource requests for every array task, as given on the command line. */
export interface SlurmResources {
  /** Tasks running at once (`%K` on the array line). */
  maxParallel?: number;
  /** GPUs per task: a count, or `type:count` such as `a100:1`. */
  gpus?: string;
  /** Wall-clock limit in a Slurm time format: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. */
  time?: string;
  /** Memory per node, e.g. 4G or 4000M. */
  mem?: string;
  cpusPerTask?: number;
  partition?: string;
}

export interface SlurmScriptSpec extends SlurmResources {
  jobName: string;
  /** Number of combinations: the array is 0..count-1. */
  count: number;
  /** Tasks start here, so relative paths in the command mean what they meant when the script was written. */
  workdir: string;
  /** Where each task's stdout/stderr file goes. */
  logDir: string;
  /** Where the script is written, for the comment saying how to submit it. */
  scriptPath: string;
  /** How to start resnet-exp on the compute nodes. */
  program: readonly string[];
  /** `sweep ...` arguments; each task adds `--index $SLURM_ARRAY_TASK_ID`. */
  sweepArgs: readonly string[];
}

const TIME = /^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2})$/;
const MEM = /^\d+[KMGT]?$/i;
const GPUS = /^([A-Za-z0-9_.-]+:)?[1-9]\d*$/;
const PARTITION = /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/;

/** Checks the flags before anything is written, so a typo is an exit 2 here rather than an sbatch error later. */
export function checkSlurmResources(r: SlurmResources): Result<SlurmResources, string[]> {
  const problems: string[] = [];
  const positive = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v > 0);
  if (!positive(r.maxParallel)) problems.push(`--max-parallel ${r.maxParallel}: expected a whole number of tasks, at least 1`);
  if (!positive(r.cpusPerTask)) problems.push(`--cpus-per-task ${r.cpusPerTask}: expected a whole number, at least 1`);
  if (r.gpus !== undefined && !GPUS.test(r.gpus)) problems.push(`--gpus ${r.gpus}: expected a count such as 1, or type:count such as a100:1`);
  if (r.time !== undefined && !TIME.test(r.time)) {
    problems.push(`--time ${r.time}: expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 2:00:00)`);
  }
  if (r.mem !== undefined && !MEM.test(r.mem)) problems.push(`--mem ${r.mem}: expected a size such as 4G or 4000M`);
  if (r.partition !== undefined && !PARTITION.test(r.partition)) problems.push(`--partition ${r.partition}: expected a partition name (or a comma list)`);
  return problems.length > 0 ? err(problems) : ok(r);
}

/** Slurm's default MaxArraySize is 1001 (indices 0-1000); larger arrays need the cluster's limit raised. */
export const SLURM_DEFAULT_MAX_ARRAY = 1001;

/**
 * A batch script that runs the sweep as one job array: task i runs combination i through
 * `resnet-exp sweep ... --index i`, which skips it when an earlier attempt completed it.
 */
export function slurmScript(spec: SlurmScriptSpec): string {
  // sbatch reads directive values like a shell word: quote the ones with spaces.
  const directive = (flag: string, value: string | number | undefined): string[] =>
    value === undefined ? [] : [`#SBATCH --${flag}=${/\s/.test(String(value)) ? `"${value}"` : value}`];
  const array = `0-${spec.count - 1}${spec.maxParallel !== undefined ? `%${spec.maxParallel}` : ''}`;
  return [
    '#!/bin/bash',
    `# resnet-exp sweep: ${spec.count} runs as a Slurm job array. Submit with: sbatch ${shellQuote(spec.scriptPath)}`,
    ...directive('job-name', spec.jobName),
    ...directive('array', array),
    ...directive('output', `${spec.logDir}/slurm-%A_%a.out`),
    ...directive('chdir', spec.workdir),
    ...directive('ntasks', 1),
    ...directive('cpus-per-task', spec.cpusPerTask),
    ...directive('gres', spec.gpus === undefined ? undefined : `gpu:${spec.gpus}`),
    ...directive('mem', spec.mem),
    ...directive('time', spec.time),
    ...directive('partition', spec.partition),
    'set -euo pipefail',
    '',
    '# How resnet-exp is started on the compute nodes; edit if node or the checkout live elsewhere there.',
    `RESNET_EXP=(${shellJoin(spec.program)})`,
    '',
    `exec "\${RESNET_EXP[@]}" ${shellJoin(spec.sweepArgs)} --index "$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
}
