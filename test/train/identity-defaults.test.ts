import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { describeChanges, runIdentity, withNewDefaults } from '../../src/train/run-identity.js';

describe('checkpoints written before a config key existed', () => {
  const now = runIdentity(configSchema.parse({ model: { depth: 20 } }), { backend: 'wasm' });
  // What an earlier resnet-exp recorded: the same run, without the model keys added since.
  const { family: _f, block: _b, ablation: _a, ...olderModel } = now.model as Record<string, unknown>;
  const older = { ...now, model: olderModel };

  it('match today\'s config.json: the new keys count at their defaults', () => {
    assert.match(describeChanges(older, now) ?? '', /model\.block \(run absent, now "basic"\)/);
    assert.equal(describeChanges(withNewDefaults(older), now), undefined);
  });

  it('still differ where the run really changed', () => {
    const edited = runIdentity(configSchema.parse({ model: { depth: 20, block: 'bottleneck' } }), { backend: 'wasm' });
    assert.match(describeChanges(withNewDefaults(older), edited) ?? '', /^model\.block \(run "basic", now "bottleneck"\)$/);
    const otherBackend = runIdentity(configSchema.parse({ model: { depth: 20 } }), { backend: 'onednn' });
    assert.match(describeChanges(withNewDefaults(older), otherBackend) ?? '', /run\.backend/);
  });
});
