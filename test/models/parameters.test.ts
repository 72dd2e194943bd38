import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildNetwork, totalCost, type NetworkSpec } from '../../src/models/index.js';

// Only Node and TF.js's pure-JS cpu backend: no native addon, no wasm. Parameters don't depend on the input
// size (the net ends in a global average pool), so an 8x8 input keeps building ResNet-110 quick.
before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Trainable values held by the built network (BN moving statistics are state, not parameters). */
export function parameterCount(spec: NetworkSpec): { held: number; recorded: number } {
  const net = buildNetwork({ ...spec, input: { height: 8, width: 8 } }, 1);
  const held = net.params.trainable().reduce((n, p) => n + p.variable.size, 0);
  net.params.dispose();
  return { held, recorded: totalCost(net.costs).params };
}

/** The `depth n parameters` rows of a module comment's table. */
function commentTable(file: string): Map<number, number> {
  const text = readFileSync(join(root, file), 'utf8');
  const comment = text.slice(0, text.indexOf('export function cifarNet'));
  const rows = [...comment.matchAll(/^\s*\*\s+(\d+)\s+(\d+)\s+([\d,]+)\s*$/gm)];
  return new Map(rows.map((r) => [Number(r[1]), Number(r[3].replaceAll(',', ''))]));
}

const cifar = (depth: number, over: Partial<NetworkSpec> = {}): NetworkSpec => ({ variant: 'residual', depth, width: 16, shortcut: 'A', ...over });

describe('CIFAR-10 ResNets: the exact parameter table (He et al. 2015, Table 6)', () => {
  // 432 + 32 (stem conv, BN) + Σ blocks (9·c_in·c_out + 9·c_out² + 4·c_out) + 650 (classifier); Table 6 rounds
  // them to 0.27M, 0.46M, 0.66M, 0.85M, 1.7M.
  const TABLE = new Map([
    [20, 269_722],
    [32, 464_154],
    [44, 658_586],
    [56, 853_018],
    [110, 1_727_962],
  ]);

  it('is what the networks hold, for residual and plain twins alike', () => {
    for (const [depth, params] of TABLE) {
      for (const variant of ['residual', 'plain'] as const) {
        const count = parameterCount(cifar(depth, { variant }));
        assert.equal(count.held, params, `${variant}-${depth}`);
        assert.equal(count.recorded, params, `${variant}-${depth}: the costs describe records`);
      }
    }
  });

  it('is the table in network.ts\'s module comment', () => {
    assert.deepEqual(commentTable('src/models/network.ts'), TABLE);
  });
});
