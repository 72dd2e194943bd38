#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv.slice(2));
// Backends may keep worker threads alive; the run is over once main returns.
process.exitCode = code;
setImmediate(() => process.exit(code));
