export {
  buildNetwork,
  cifarNet,
  forwardPass,
  networkId,
  networkSpecs,
  totalCost,
  weightedLayers,
  type Network,
  type NetworkSpec,
  type NetworkCost,
  type Pass,
} from './network.js';
export type { BatchStats, LayerCost, Mode } from './context.js';
export type { Param, ParamRole } from './params.js';
