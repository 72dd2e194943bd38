export { buildNetwork, cifarNet, networkId, totalCost, type Network, type NetworkSpec, type NetworkCost } from './network.js';
export type { BatchStats, LayerCost, Mode } from './context.js';
export type { Param, ParamRole } from './params.js';
