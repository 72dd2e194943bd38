export * from './schema.js';
export { loadConfig, readConfigFile, resolveRawConfig, validateConfig, type ConfigSources } from './load.js';
export { parseSet, shorthandOverrides, type Override, type Shorthands } from './overrides.js';
export { LIMITS } from './limits.js';
export { netSize, type NetShape, type NetSize } from './net-size.js';
