import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { machineThreads, planThreads } from '../../src/backend/threads.js';
import { loadConfig, parseSet, shorthandOverrides } from '../../src/config/index.js';

describe('a run\'s thread plan', () => {
  it('default: OMP_NUM_THREADS when set (its first entry), else the cores this process may use; never adaptive', () => {
    assert.deepEqual(planThreads(undefined, {}), { ok: true, value: { count: os.availableParallelism(), adaptive: false } });
    assert.deepEqual(planThreads(undefined, { OMP_NUM_THREADS: '3' }), { ok: true, value: { count: 3, adaptive: false } });
    assert.deepEqual(machineThreads({ OMP_NUM_THREADS: ' 4,2 ' }), { ok: true, value: 4 });
    assert.deepEqual(machineThreads({ OMP_NUM_THREADS: '' }), { ok: true, value: os.availableParallelism() });
  });

  it('an explicit count wins over OMP_NUM_THREADS; adaptive is only what was asked for', () => {
    assert.deepEqual(planThreads(1, { OMP_NUM_THREADS: '2' }), { ok: true, value: { count: 1, adaptive: false } });
    assert.deepEqual(planThreads('adaptive', { OMP_NUM_THREADS: '2' }), { ok: true, value: { count: 2, adaptive: true } });
  });

  it('a bad OMP_NUM_THREADS is an error naming it', () => {
    for (const bad of ['x', '0', '-1', '1.5', '2x']) {
      const plan = planThreads(undefined, { OMP_NUM_THREADS: bad });
      assert.equal(plan.ok, false, bad);
      assert.match(plan.ok ? '' : plan.error, new RegExp(`^OMP_NUM_THREADS=${bad.replace('.', '\\.')}: `));
    }
    assert.equal(planThreads(2, { OMP_NUM_THREADS: 'x' }).ok, true, 'not read when the count is given');
  });
});

describe('the threads config key and --threads', () => {
  const threadsOf = (...sets: string[]) => {
    const loaded = loadConfig({ overrides: sets.map(parseSet) });
    return loaded.ok ? loaded.value.threads : loaded.error.join('\n');
  };

  it('takes a count or adaptive, and is absent by default', () => {
    assert.equal(threadsOf(), undefined);
    assert.equal(threadsOf('threads=1'), 1);
    assert.equal(threadsOf('threads=adaptive'), 'adaptive');
    const [fromFlag] = shorthandOverrides({ threads: '2' });
    assert.deepEqual(fromFlag, { path: ['threads'], value: 2 });
    assert.deepEqual(shorthandOverrides({ threads: 'adaptive' }), [{ path: ['threads'], value: 'adaptive' }]);
  });

  it('refuses anything else with the key named', () => {
    for (const bad of ['threads=0', 'threads=2.5', 'threads=lots', 'threads=5000', 'threads=[2]']) {
      assert.match(String(threadsOf(bad)), /^threads: /, bad);
    }
  });
});
