import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Another process keeping one core busy, as on a shared machine: a busy loop bounded in time, so that a test
 * killed before its `finally` still cannot leave it spinning for long.
 */
export class CpuHog {
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;

  constructor(maxSeconds = 120) {
    this.child = spawn(process.execPath, ['-e', `const end = Date.now() + ${maxSeconds * 1000}; while (Date.now() < end) {}`], { stdio: 'ignore' });
    this.exited = new Promise((done) => {
      this.child.on('exit', done);
      this.child.on('error', done);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs `body` while a CpuHog spins, and always stops it. */
export async function withCpuHog<T>(body: () => Promise<T>): Promise<T> {
  const hog = new CpuHog();
  try {
    return await body();
  } finally {
    await hog.stop();
  }
}
