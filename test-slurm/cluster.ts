import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { err, ok, type Result } from '../src/result.js';

/**
 * A one-node Slurm cluster on localhost, private to a test: its own munge key and socket, its own ports, state
 * and log folders, nothing from /etc. Needs root (slurmd runs jobs as their user) and Debian's slurm-wlm and munge.
 */
export interface LocalCluster {
  dir: string;
  partition: string;
  /** The environment for sbatch, squeue, scontrol. */
  env: NodeJS.ProcessEnv;
  /** The daemons' log tails, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

const BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo', 'scontrol'];
export const PARTITION = 'resnetexp';

const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const tail = (path: string, lines = 15): string =>
  existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';

/** A minimal slurm.conf that works in an unprivileged container: no cgroups, no accounting, no systemd. */
function slurmConf(dir: string, ports: { ctld: number; d: number }): string {
  return `${[
    'ClusterName=resnetexp',
    'SlurmctldHost=localhost(127.0.0.1)',
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${dir}/munge.socket`,
    `SlurmctldPort=${ports.ctld}`,
    `SlurmdPort=${ports.d}`,
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`,
    `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/slurmctld.log`,
    `SlurmdLogFile=${dir}/slurmd.log`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core_Memory',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'MpiDefault=none',
    'ReturnToService=2',
    // Finished jobs stay visible to scontrol for this long, so the test can read every task's exit code.
    'MinJobAge=600',
    `NodeName=localhost NodeAddr=127.0.0.1 CPUs=${availableParallelism()} RealMemory=2000 State=UNKNOWN`,
    `PartitionName=${PARTITION} Nodes=localhost Default=YES MaxTime=INFINITE State=UP`,
  ].join('\n')}\n`;
}

/**
 * Starts munged, slurmctld and slurmd and waits for the node to be idle. An error means Slurm can't run here
 * (not installed, not root, daemons not coming up), which callers report as "not available", not as a failure.
 */
export async function startLocalCluster(dir = process.env.RESNET_EXP_SLURM_DIR): Promise<Result<LocalCluster, string>> {
  const missing = BINARIES.filter((b) => !onPath(b));
  if (missing.length > 0) return err(`not installed: ${missing.join(', ')} (apt-get install slurm-wlm munge)`);
  if (process.getuid?.() !== 0) return err('slurmd must run as root to start jobs');

  const home = dir ?? mkdtempSync(join(tmpdir(), 'resnet-exp-slurm-'));
  for (const sub of ['state', 'spool']) mkdirSync(join(home, sub), { recursive: true });
  const key = join(home, 'munge.key');
  writeFileSync(key, randomBytes(1024));
  chmodSync(key, 0o400);
  const conf = join(home, 'slurm.conf');
  writeFileSync(conf, slurmConf(home, { ctld: await freePort(), d: await freePort() }));
  const env = { ...process.env, SLURM_CONF: conf };

  const children: ChildProcess[] = [];
  const start = (command: string, args: string[], log: string) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => out.push(d));
    child.on('exit', () => writeFileSync(join(home, log), Buffer.concat(out)));
    children.push(child);
    return child;
  };
  const logs = () =>
    ['munged.out', 'slurmctld.log', 'slurmd.log'].map((f) => `--- ${f}\n${tail(join(home, f))}`).join('\n');
  const stop = async () => {
    spawnSync('scontrol', ['shutdown'], { env, stdio: 'ignore', timeout: 10_000 });
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    }
  };

  // Foreground daemons (-F, -D): children of this process, stopped by it; no systemd needed.
  start(
    'munged',
    ['-F', '-f', `--socket=${home}/munge.socket`, `--key-file=${key}`, `--pid-file=${home}/munged.pid`, `--log-file=${home}/munged.log`, `--seed-file=${home}/munged.seed`],
    'munged.out',
  );
  for (let i = 0; i < 50 && !existsSync(join(home, 'munge.socket')); i++) await sleep(100);
  start('slurmctld', ['-D', '-f', conf], 'slurmctld.out');
  await sleep(1000);
  start('slurmd', ['-D', '-N', 'localhost', '-f', conf], 'slurmd.out');

  for (let i = 0; i < 60; i++) {
    const state = spawnSync('sinfo', ['-h', '-p', PARTITION, '-o', '%T'], { env, encoding: 'utf8', timeout: 10_000 });
    if (state.stdout?.trim() === 'idle') return ok({ dir: home, partition: PARTITION, env, logs, stop });
    if (children.some((c) => c.exitCode !== null)) break;
    await sleep(500);
  }
  const exited = children.filter((c) => c.exitCode !== null).map((c) => `${c.spawnfile} exited with ${c.exitCode}`);
  const why = logs();
  await stop();
  return err(`the local Slurm daemons did not come up (${exited.join(', ') || 'node not idle after 30 s'})\n${why}`);
}

export interface TaskState {
  task: number;
  state: string;
  exitCode: string;
  throttle: string;
}

/** Every array task of a job as `scontrol show job` reports it. */
export function arrayTasks(cluster: LocalCluster, jobId: string): TaskState[] {
  const shown = spawnSync('scontrol', ['show', 'job', jobId], { env: cluster.env, encoding: 'utf8' });
  return shown.stdout
    .split(/\n\s*\n/)
    .filter((block) => /ArrayTaskId=\d+/.test(block))
    .map((block) => ({
      task: Number(/ArrayTaskId=(\d+)/.exec(block)?.[1]),
      state: /JobState=(\S+)/.exec(block)?.[1] ?? '?',
      exitCode: /ExitCode=(\S+)/.exec(block)?.[1] ?? '?',
      throttle: /ArrayTaskThrottle=(\S+)/.exec(block)?.[1] ?? '?',
    }))
    .sort((a, b) => a.task - b.task);
}

/** Waits until the job has no task pending or running. */
export async function waitForJob(cluster: LocalCluster, jobId: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const queue = spawnSync('squeue', ['-h', '-j', jobId, '-o', '%i'], { env: cluster.env, encoding: 'utf8' });
    if (queue.status === 0 && queue.stdout.trim() === '') return true;
    // A job Slurm has already forgotten is over too.
    if (queue.status !== 0 && /Invalid job id/i.test(queue.stderr)) return true;
    await sleep(1000);
  }
  return false;
}
