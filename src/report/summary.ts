import type { Trainee } from '../train/lockstep.js';

export interface NetworkSummary {
  seed: number;
  variant: string;
  depth: number;
  params: number;
  status: string;
  /** Over the training batches since the last row before the end. */
  final_train_loss: number | null;
  final_train_error: number | null;
  final_test_loss: number | null;
  final_test_error: number | null;
  best_test_error: number | null;
  best_test_step: number | null;
  images_per_sec: number | null;
}

export interface RunSummary {
  name: string;
  run_dir: string;
  backend: string;
  seeds: number[];
  iterations: number;
  /** Summed over seeds. */
  steps_completed: number;
  status: 'completed' | 'interrupted';
  wall_seconds: number;
  networks: NetworkSummary[];
}

const finite = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

export function summarizeTrainee(t: Trainee): Omit<NetworkSummary, 'seed'> {
  return {
    variant: t.net.spec.variant,
    depth: t.net.spec.depth,
    params: t.params,
    status: t.status,
    final_train_loss: finite(t.lastTrain?.loss),
    final_train_error: finite(t.lastTrain?.error),
    final_test_loss: finite(t.lastTest?.loss),
    final_test_error: finite(t.lastTest?.error),
    best_test_error: finite(t.best?.error),
    best_test_step: t.best?.step ?? null,
    images_per_sec: t.totals.seconds > 0 ? t.totals.images / t.totals.seconds : null,
  };
}
