/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** A run failed (an error while training, or some sweep members failed). */
  failed: 1,
  /** Bad input: config, flags, data files, run folder. */
  badInput: 2,
  /** Interrupted by SIGINT/SIGTERM. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
