import { stageBlocks } from '../config/net-size.js';
import { configDepths, type Ablation, type BlockKind, type Config, type Family, type Variant } from '../config/schema.js';
import type { ShortcutOption } from './shortcuts.js';

/** What a network is: everything that decides its layers and their shapes. */
export interface NetworkSpec {
  variant: Variant;
  /**
   * cifar: 6n+2 with basic blocks, 9n+2 with bottleneck blocks (a 3x3 stem conv, three stages of n blocks, the
   * classifier); imagenet: 18 or 34 (basic), 50, 101 or 152 (bottleneck).
   */
  depth: number;
  /** Filters of the first stage; each further stage doubles them (bottleneck outputs: 4× those). */
  width: number;
  /** cifar unless given. */
  family?: Family;
  shortcut: ShortcutOption;
  /** basic unless given. */
  block?: BlockKind;
  /** The 2016 ablations' constants; the paper's unless given. */
  ablation?: Ablation;
  /** Classifier outputs; 10 (CIFAR-10) unless the data set says otherwise. */
  classes?: number;
  /** Input images' height and width; 32x32 unless the data set says otherwise. The global average pool takes any size. */
  input?: { height: number; width: number };
}

/** The blocks of each stage, counted where the config's size bound counts them (config/net-size.ts). */
export { stageBlocks };

/** n, the blocks in each of a cifar net's three stages: depth = 3·n·(layers per block) + 2. */
export const blocksPerStage = (spec: Pick<NetworkSpec, 'depth' | 'block'>): number => stageBlocks({ ...spec, family: 'cifar' })[0]!;

/** e.g. `residual-56`: unique within a run, whose networks share everything but variant and depth. */
export const networkId = (spec: Pick<NetworkSpec, 'variant' | 'depth'>): string => `${spec.variant}-${spec.depth}`;

/** Every (depth, variant) network a config trains, in the order it trains them, for the data's input and classes. */
export function networkSpecs(config: Config, data: { height: number; width: number; classes: number }): NetworkSpec[] {
  const { variants, width, shortcut, family, block, ablation } = config.model;
  const input = { height: data.height, width: data.width };
  return configDepths(config).flatMap((depth) =>
    variants.map((variant) => ({ variant, depth, width, shortcut, family, block, ablation, classes: data.classes, input })),
  );
}

const inputOf = (spec: NetworkSpec): { height: number; width: number } => spec.input ?? { height: 32, width: 32 };

/** A blank image of the network's input size: a forward pass over it creates the parameters and records costs. */
export const blankInputShape = (spec: NetworkSpec): [number, number, number, number] => [1, inputOf(spec).height, inputOf(spec).width, 3];

