import { z } from 'zod';
import { LIMITS } from './limits.js';
import { blockKindSchema, familySchema, shortcutOptionSchema, variantSchema, type BlockKind, type Family } from './architecture.js';
import { IMAGENET_STAGES, netSize } from './net-size.js';

/**
 * The one source of truth for a run's configuration. Every default is the CIFAR-10 recipe of He et al. 2015,
 * section 4.2, so `{}` means "the paper's ResNet-20 comparison, plain vs residual".
 */

const isCifarDepth = (d: number): boolean => Number.isInteger(d) && d >= 8 && (d - 2) % 6 === 0;
const isBottleneckDepth = (d: number): boolean => Number.isInteger(d) && d >= 11 && (d - 2) % 9 === 0;
const BASIC_DEPTHS = 'must be 6n+2 such as 20, 32, 44, 56, 110';

/** A depth of basic blocks (two 3x3 convs each). */
export const depthSchema = z
  .number()
  .int()
  .refine(isCifarDepth, { message: BASIC_DEPTHS })
  .refine((d) => d <= LIMITS.depth, { message: `must be at most ${LIMITS.depth} (ResNet-1202 is the deepest CIFAR net of the paper)` });

/** A depth of any network this program builds: 6n+2 (basic), 9n+2 (bottleneck) or one of the imagenet family's. */
export const networkDepthSchema = z
  .number()
  .int()
  .refine((d) => isCifarDepth(d) || isBottleneckDepth(d) || IMAGENET_STAGES[d] !== undefined, {
    message: 'must be 6n+2, 9n+2 or 18, 34, 50, 101, 152',
  })
  .refine((d) => d <= LIMITS.depth, { message: `must be at most ${LIMITS.depth}` });

/** Lists whose entries name networks or seeds: a repeat would train the same network twice into one CSV. */
const distinct = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).superRefine((list, ctx) => {
    list.forEach((v, i) => {
      if (list.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${what} ${JSON.stringify(v)} is listed twice`, input: v });
    });
  });

export * from './architecture.js';
export { IMAGENET_STAGES };

/** The constants of the 2016 paper's shortcut ablations (its Table 1), each used by the variant named. */
export const ablationSchema = z.strictObject({
  shortcutScale: z.number().min(0).default(0.5).describe("`constant-scaling`: λ, the shortcut's factor; the paper's cases use 0.5 (0 makes a plain net)"),
  residualScale: z.number().min(0).default(0.5).describe("`constant-scaling`: F's factor; 1 − λ = 0.5 converged in the paper, 1 failed"),
  gateBias: z
    .number()
    .default(-6)
    .describe('`exclusive-gating`, `shortcut-gating`: b_g, the bias of g(x) = σ(W_g x + b_g) at initialisation; −6 was the best found'),
  dropout: z
    .number()
    .min(0)
    .lt(1)
    .default(0.5)
    .describe("`dropout-shortcut`: the share of the shortcut's values dropped while training (0.5 in the paper); none at evaluation"),
});
export type Ablation = z.infer<typeof ablationSchema>;
export const ABLATION_DEFAULTS: Ablation = ablationSchema.parse({});

export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'cpu'] as const;
export const backendNameSchema = z.enum(BACKENDS);
export type BackendName = z.infer<typeof backendNameSchema>;

const positiveInt = z.number().int().positive();
/** More would only oversubscribe any machine this runs on; far more fails to start the threads at all. */
export const MAX_THREADS = 1024;
const nonNegativeInt = z.number().int().nonnegative();
const imageCount = (limit: number, what: string) => positiveInt.max(limit, { message: `must be at most ${limit} (${what})` });
const TRAIN_SET = `the CIFAR-10 training set`;
const TEST_SET = `the CIFAR-10 test set`;

const augmentSchema = z.strictObject({
  crop: z.boolean().default(true).describe("CIFAR: pad 4 pixels with zeros, then a random crop of the image's size; image folders: a random resized crop"),
  flip: z.boolean().default(true).describe('random horizontal flip, with probability 1/2'),
});

export const DATA_SOURCES = ['cifar10', 'cifar100', 'imagefolder', 'synthetic'] as const;

const unitInterval = z.number().positive().max(1);
const increasing = <T extends readonly [number, number]>(pair: T): boolean => pair[0] <= pair[1];

/** A folder of class subfolders of PNG/JPEG files (src/data/image-folder.ts), decoded once into a cache. */
const imageFolderSchema = z
  .strictObject({
    size: positiveInt.max(1024).default(64).describe('side of the stored (cached) square images: the short side resized to it, the long one centre-cropped'),
    crop: positiveInt.default(56).describe("side of the network's input (at most `size`): random resized crops for training, the central crop for evaluation"),
    scale: z
      .tuple([unitInterval, unitInterval])
      .refine(increasing, { message: 'must be [min, max]' })
      .default([0.08, 1])
      .describe("random resized crop: area as a fraction of the stored image's, [min, max] (torchvision's default)"),
    ratio: z
      .tuple([z.number().positive(), z.number().positive()])
      .refine(increasing, { message: 'must be [min, max]' })
      .default([3 / 4, 4 / 3])
      .meta({ description: 'random resized crop: aspect ratio (width/height), [min, max]', absent: '`[3/4, 4/3]`' }),
  })
  .superRefine((f, ctx) => {
    if (f.crop > f.size) ctx.addIssue({ code: 'custom', path: ['crop'], message: `must be at most size (${f.size})`, input: f.crop });
  });

const dataSchema = z
  .strictObject({
    source: z.enum(DATA_SOURCES).default('cifar10').describe('the data set (see Data sets)'),
    dir: z.string().min(1).optional().meta({
      description:
        'cifar10: the folder of data_batch_*.bin and test_batch.bin; cifar100: of train.bin and test.bin; ' +
        'imagefolder: the folder holding train/ and val/ (required then). Relative to the config file',
      absent: 'searched (see Data sets)',
    }),
    trainLimit: imageCount(LIMITS.trainImages, TRAIN_SET).optional().meta({ description: 'use only the first N training images', absent: 'all' }),
    validationLimit: imageCount(LIMITS.validationImages, TEST_SET)
      .optional()
      .meta({ description: 'evaluate on only the first N validation images (CPU-scale runs)', absent: 'all' }),
    validation: z
      .enum(['test', 'split45k'])
      .default('test')
      .describe("`test`: evaluate on the test set; `split45k`: hold out the last 10% of training images (5k of 50k, the paper's 45k/5k split)"),
    augment: augmentSchema.prefault({}),
    synthetic: z
      .strictObject({
        train: imageCount(LIMITS.trainImages, `as many as ${TRAIN_SET}`).default(512).describe('training images for `source: synthetic`'),
        validation: imageCount(LIMITS.validationImages, `as many as ${TEST_SET}`).default(256).describe('validation images for `source: synthetic`'),
      })
      .prefault({}),
    cifar100: z
      .strictObject({ labels: z.enum(['fine', 'coarse']).default('fine').describe('`source: cifar100`: the 100 fine classes or the 20 coarse superclasses') })
      .prefault({}),
    imagefolder: imageFolderSchema.prefault({}),
  })
  .superRefine((d, ctx) => {
    if (d.source !== 'imagefolder') return;
    if (d.dir === undefined) ctx.addIssue({ code: 'custom', path: ['dir'], message: 'is required with source imagefolder (the folder holding train/ and val/)', input: d.dir });
    if (d.validation === 'split45k') {
      ctx.addIssue({ code: 'custom', path: ['validation'], message: 'must be test with source imagefolder, which validates on val/', input: d.validation });
    }
  });

const modelSchema = z
  .strictObject({
    depth: z
      .number()
      .int()
      .max(LIMITS.depth, { message: `must be at most ${LIMITS.depth} (ResNet-1202 is the deepest CIFAR net of the paper)` })
      .default(20)
      .describe('6n+2 with basic blocks (20, 32, 44, 56, 110, …), 9n+2 with bottlenecks (164, 1001); the imagenet family: 18, 34, 50, 101, 152'),
    depths: distinct(z.number().int().max(LIMITS.depth, { message: `must be at most ${LIMITS.depth}` }), 'depth')
      .min(1)
      .optional()
      .meta({ description: 'several depths trained in lockstep, e.g. [20, 56]; when given, it replaces `depth`', absent: '[`depth`]' }),
    variants: distinct(variantSchema, 'variant')
      .min(1)
      .default(['plain', 'residual'])
      .describe('the units compared side by side: plain and residual (2015), `preact` and the 2016 ablations (see Architectures)'),
    family: familySchema
      .default('cifar')
      .describe('`cifar`: 3x3 stem, three stages; `imagenet`: 7x7/2 stem, 3x3/2 max-pool, four stages (18, 34, 50, 101, 152 layers)'),
    block: blockKindSchema.default('basic').describe('`basic`: two 3x3 convs; `bottleneck`: 1x1 reduce, 3x3, 1x1 expand ×4'),
    shortcut: shortcutOptionSchema
      .default('A')
      .describe(
        'A: identity with zero-padded channels (parameter-free); B: 1x1 projection where dimensions change; C: 1x1 projection on every block; ' +
          '`conv3x3-bn`: a 3x3 conv and BN where dimensions change',
      ),
    width: positiveInt
      .max(LIMITS.width, { message: `must be at most ${LIMITS.width}` })
      .default(16)
      .describe("filters of the first stage; the three stages have width, 2·width, 4·width (×4 at a bottleneck's output)"),
    ablation: ablationSchema.prefault({}),
  })
  .superRefine(
    (m, ctx) => {
      const depths: [number, (string | number)[]][] = m.depths ? m.depths.map((d, i) => [d, ['depths', i]]) : [[m.depth, ['depth']]];
      for (const [depth, path] of depths) {
        const message = m.family === 'imagenet' ? imagenetDepthProblem(depth, m.block) : depthProblem(depth, m.block);
        if (message) ctx.addIssue({ code: 'custom', path, message, input: depth });
      }
    },
    // Checked also when other model keys are wrong, so that every problem is reported at once.
    { when: (payload) => !payload.issues.some((issue) => DEPTH_KEYS.has(String(issue.path?.[0]))) },
  );

/** Whether `depth` has a network of `block` blocks in `family`. */
function fitsBlock(depth: number, family: Family, block: BlockKind): boolean {
  return (family === 'imagenet' ? imagenetDepthProblem(depth, block) : depthProblem(depth, block)) === undefined;
}

/**
 * The input size and classes the schema can know without reading data: CIFAR's 32x32, an image folder's crop.
 * An image folder's classes are its subfolders, unknown here; 1000 (ImageNet's) bounds its classifier from above
 * for any subset users train on.
 */
function schemaInput(c: Config): { input: { height: number; width: number }; classes: number } {
  switch (c.data.source) {
    case 'imagefolder':
      return { input: { height: c.data.imagefolder.crop, width: c.data.imagefolder.crop }, classes: 1000 };
    case 'cifar100':
      return { input: { height: 32, width: 32 }, classes: c.data.cifar100.labels === 'fine' ? 100 : 20 };
    default:
      return { input: { height: 32, width: 32 }, classes: 10 };
  }
}

/** The keys the depth rule reads: when one of them is itself invalid, the rule has nothing to check. */
const DEPTH_KEYS = new Set(['depth', 'depths', 'block', 'family']);

/** Why `depth` is not one of the imagenet family's depths with `block` blocks, or undefined when it is. */
function imagenetDepthProblem(depth: number, block: BlockKind): string | undefined {
  if (IMAGENET_STAGES[depth]?.block === block) return undefined;
  const depths = (kind: BlockKind) => Object.keys(IMAGENET_STAGES).filter((d) => IMAGENET_STAGES[Number(d)].block === kind);
  const other: BlockKind = block === 'basic' ? 'bottleneck' : 'basic';
  const hint = IMAGENET_STAGES[depth] ? `; ${depth} takes model.block ${other}` : '';
  return `must be ${depths(block).join(', ')} with ${block} blocks in the imagenet family${hint}`;
}

/** Why `depth` is not a depth of `block` blocks, or undefined when it is one. */
function depthProblem(depth: number, block: BlockKind): string | undefined {
  if (block === 'bottleneck') return isBottleneckDepth(depth) ? undefined : 'must be 9n+2 with bottleneck blocks, such as 164, 1001';
  if (isCifarDepth(depth)) return undefined;
  return isBottleneckDepth(depth) ? `${BASIC_DEPTHS}, or set model.block to bottleneck (9n+2)` : BASIC_DEPTHS;
}

const warmupSchema = z.strictObject({
  iterations: nonNegativeInt.default(0).describe('iterations at a constant small learning rate first, as the paper does for ResNet-110'),
  lr: z.number().positive().default(0.01).describe('the warm-up learning rate'),
});

const trainSchema = z
  .strictObject({
    batchSize: imageCount(LIMITS.trainImages, `a batch cannot hold more images than ${TRAIN_SET}`).default(128).describe('images per SGD step'),
    iterations: positiveInt.default(64000).describe('SGD steps'),
    lr: z.number().positive().default(0.1).describe('learning rate'),
    momentum: z.number().min(0).max(1).default(0.9).describe('SGD momentum'),
    weightDecay: z.number().min(0).default(1e-4).describe('SGD weight decay on conv and dense kernels (an L2 loss term λ·Σw² equals decay 2λ)'),
    milestones: z.array(positiveInt).default([32000, 48000]).describe('iterations at which the learning rate is multiplied by `gamma`'),
    gamma: z.number().positive().default(0.1).describe('learning-rate factor at each milestone'),
    warmup: warmupSchema.prefault({}),
    microBatch: positiveInt.optional().meta({
      description:
        "images per forward/backward pass, gradients averaged over a step's slices; batch-norm statistics per slice, as in the paper's two-GPU setup",
      absent: 'the whole batch',
    }),
  })
  .superRefine((t, ctx) => {
    t.milestones.forEach((m, i) => {
      if (i > 0 && m <= t.milestones[i - 1]) {
        ctx.addIssue({ code: 'custom', path: ['milestones', i], message: 'must be increasing', input: m });
      }
    });
    if (t.microBatch !== undefined && t.batchSize % t.microBatch !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['microBatch'],
        message: `must divide train.batchSize (${t.batchSize})`,
        input: t.microBatch,
      });
    }
  });

export const configSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, { message: 'must be letters, digits, dot, dash or underscore' })
    .default('resnet')
    .describe("run name, used in the run folder's name"),
  seed: nonNegativeInt.default(1).describe('seed of weights, data order and augmentation'),
  seeds: distinct(nonNegativeInt, 'seed')
    .min(1)
    .optional()
    .meta({ description: 'repeat the whole comparison once per seed, into the same run folder; when given, it replaces `seed`', absent: '[`seed`]' }),
  backend: z.union([z.literal('auto'), backendNameSchema]).default('auto').describe('the TF.js backend (see Backends); `auto`: the fastest that loads'),
  // A count fixed for the whole run because sums split over another count round differently.
  threads: z
    .union([positiveInt.max(MAX_THREADS), z.literal('adaptive')], {
      error: `must be a whole number of threads from 1 to ${MAX_THREADS}, or "adaptive"`,
    })
    .optional()
    .meta({
      description:
        'threads of `onednn` and `wasm`, fixed for the whole run and its resume; `adaptive`: `onednn` drops threads while other processes ' +
        'keep cores busy, faster on a shared machine but no longer bit-reproducible (see Backends)',
      absent: '`OMP_NUM_THREADS` if set, else the cores this process may use',
    }),
  out: z.string().min(1).optional().meta({ description: 'run folder', absent: '`runs/<name>-<UTC time>`' }),
  data: dataSchema.prefault({}),
  model: modelSchema.prefault({}),
  train: trainSchema.prefault({}),
  eval: z
    .strictObject({
      every: positiveInt.default(1000).describe('iterations between test evaluations (and always at the end)'),
      batchSize: imageCount(LIMITS.validationImages, TEST_SET).default(500).describe('images per evaluation pass'),
    })
    .prefault({}),
  checkpoint: z
    .strictObject({
      every: positiveInt.default(1000).describe('iterations between checkpoints (also written at the end and when stopped by a signal)'),
      keep: positiveInt.default(2).describe('how many of the latest checkpoints to keep'),
    })
    .prefault({}),
  log: z
    .strictObject({
      every: positiveInt.default(100).describe('iterations between training-curve rows'),
    })
    .prefault({}),
  diagnostics: z
    .strictObject({
      every: positiveInt.optional().meta({
        description:
          'iterations between per-layer gradient norms and response std (He et al. 2015, Fig. 7) into diagnostics.csv, and always at the end; ' +
          'a multiple of `log.every`, as they are taken at logging points',
        absent: 'off',
      }),
      batch: imageCount(LIMITS.validationImages, TEST_SET).default(256).describe('validation images (the first ones) whose layer responses diagnostics measure'),
    })
    .prefault({}),
}).superRefine((c, ctx) => {
  checkSizes(c, ctx);
  const every = c.diagnostics.every;
  if (every !== undefined && every % c.log.every !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['diagnostics', 'every'],
      message: `must be a multiple of log.every (${c.log.every}): diagnostics are taken at logging points`,
      input: every,
    });
  }
});

export type Config = z.infer<typeof configSchema>;
/** What a config file may hold: every key optional. */
export type ConfigInput = z.input<typeof configSchema>;

/** The seeds a config runs, in the order given. */
export const configSeeds = (config: Config): number[] => config.seeds ?? [config.seed];

/** The depths a config trains, in the order given. */
export const configDepths = (config: Config): number[] => config.model.depths ?? [config.model.depth];

/**
 * Sizes that pass each key's own bound but not together: a network too big to hold, a single tensor beyond what
 * a typed array can be, a batch larger than the training images the config itself allows.
 */
function checkSizes(c: Config, ctx: z.RefinementCtx): void {
  const { width, shortcut, family, block } = c.model;
  // A depth or width over its own limit is already reported, and its count would only repeat it.
  if (width > LIMITS.width) return;
  const { input, classes } = schemaInput(c);
  let largestMap = 0;
  for (const depth of (c.model.depths ?? [c.model.depth]).filter((d) => d <= LIMITS.depth)) {
    for (const variant of c.model.variants) {
      // The depth rule of the block and family reports a depth that has no network.
      if (!fitsBlock(depth, family, block)) continue;
      const size = netSize({ variant, depth, width, shortcut, family, block }, classes, input);
      largestMap = Math.max(largestMap, size.largestMap);
      if (size.params > LIMITS.params) {
        ctx.addIssue({
          code: 'custom',
          path: ['model', 'width'],
          message: `${variant}-${depth} at this width has ${(size.params / 1e6).toFixed(0)}M parameters, over the limit of ${LIMITS.params / 1e6}M: lower the width or the depth`,
          input: width,
        });
        return;
      }
    }
  }
  const inputText = input.height === 32 && input.width === 32 ? '' : ` (${input.height}x${input.width} input)`;
  const tensors: [string[], number][] = [
    [['train', c.train.microBatch === undefined ? 'batchSize' : 'microBatch'], c.train.microBatch ?? c.train.batchSize],
    [['eval', 'batchSize'], c.eval.batchSize],
    [['diagnostics', 'batch'], c.diagnostics.batch],
  ];
  for (const [path, images] of tensors) {
    if (path[0] === 'diagnostics' && c.diagnostics.every === undefined) continue;
    const values = images * largestMap;
    if (values >= LIMITS.tensorElements) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${images} images at model.width ${width}${inputText} make a feature map of ${values.toExponential(2)} values, more than one TF.js tensor can hold (2^32)${path[0] === 'train' ? ': set train.microBatch' : ''}`,
        input: images,
      });
    }
  }
  const trainImages = c.data.source === 'synthetic' ? Math.min(c.data.synthetic.train, c.data.trainLimit ?? Infinity) : c.data.trainLimit;
  if (trainImages !== undefined && c.train.batchSize > trainImages) {
    const from = c.data.source === 'synthetic' && trainImages === c.data.synthetic.train ? 'data.synthetic.train' : 'data.trainLimit';
    ctx.addIssue({
      code: 'custom',
      path: ['train', 'batchSize'],
      message: `must be at most the ${trainImages} training images (${from}): a batch would hold an image twice`,
      input: c.train.batchSize,
    });
  }
}
