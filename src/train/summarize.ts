import type { NetworkSummary } from '../record/summary.js';
import type { Trainee } from './lockstep.js';

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
