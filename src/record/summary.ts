import { z } from 'zod';

const nullableNumber = z.number().nullable();

/** summary.json, written at the end of a run (and when it is stopped); read back by report, sweep and resume. */
export const networkSummarySchema = z.object({
  seed: z.number().int(),
  variant: z.string(),
  depth: z.number().int(),
  params: z.number().int(),
  /** `training` only in a summary written while the run is still going. */
  status: z.enum(['training', 'done', 'diverged', 'interrupted']),
  /** Over the training batches since the last row before the end. */
  final_train_loss: nullableNumber,
  final_train_error: nullableNumber,
  final_test_loss: nullableNumber,
  final_test_error: nullableNumber,
  best_test_error: nullableNumber,
  best_test_step: nullableNumber,
  /** This network's own steps only. */
  images_per_sec: nullableNumber,
});

export const runSummarySchema = z.object({
  name: z.string(),
  run_dir: z.string(),
  backend: z.string(),
  seeds: z.array(z.number().int()),
  iterations: z.number().int(),
  /** Summed over seeds. */
  steps_completed: z.number().int(),
  status: z.enum(['completed', 'interrupted']),
  /** Training time of the process that wrote it. */
  wall_seconds: z.number(),
  networks: z.array(networkSummarySchema),
});

export type NetworkSummary = z.infer<typeof networkSummarySchema>;
export type RunSummary = z.infer<typeof runSummarySchema>;
