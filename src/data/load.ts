import type { Config } from '../config/schema.js';
import { err, InputError, ok, type Result } from '../result.js';
import { loadCifar10, loadCifar100 } from './cifar.js';
import { CIFAR_SIZE } from './cifar-format.js';
import { loadImageFolder } from './image-folder.js';
import { imageFolderClasses } from './image-folder-scan.js';
import { CIFAR10_GEOMETRY, type ImageSet } from './image-set.js';
import { hasTrainFiles, locateRelease } from './locate.js';
import { inputPipeline, type InputShape } from './pipeline.js';
import { RELEASES } from './releases.js';
import { syntheticCifar } from './synthetic.js';

type DataConfig = Config['data'];

export interface LoadedData {
  train: ImageSet;
  validation: ImageSet;
  /** What was read, for config.json. */
  source: string[];
  /** What the networks take in and tell apart. */
  input: InputShape;
}

/** Loads the configured data set; bad input (missing or corrupt data) is an InputError with one line. */
export async function loadDataset(data: DataConfig, seed: number, note?: (line: string) => void): Promise<LoadedData> {
  const withInput = (d: Omit<LoadedData, 'input'>): LoadedData => ({ ...d, input: inputPipeline(data, d.train).input });
  switch (data.source) {
    case 'synthetic': {
      const { train, validation } = syntheticCifar(seed, data.synthetic);
      return withInput({ train, validation, source: [`synthetic(seed=${seed})`] });
    }
    case 'imagefolder': {
      if (data.dir === undefined) throw new InputError('data.dir is required with source imagefolder');
      const loaded = await loadImageFolder(data.dir, { size: data.imagefolder.size, trainLimit: data.trainLimit, note });
      if (!loaded.ok) throw new InputError(loaded.error);
      return withInput({ train: loaded.value.train, validation: loaded.value.validation, source: loaded.value.files });
    }
    case 'cifar10':
    case 'cifar100': {
      const dir = locateRelease(RELEASES[data.source], data.dir);
      const opts = { trainLimit: data.trainLimit, validation: data.validation };
      const loaded = data.source === 'cifar10' ? await loadCifar10(dir, opts) : await loadCifar100(dir, { ...opts, labels: data.cifar100.labels });
      if (!loaded.ok) throw new InputError(loaded.error);
      return withInput({ train: loaded.value.train, validation: loaded.value.validation, source: loaded.value.files });
    }
  }
}

/**
 * The networks' input and class count for a config without reading any image (for `describe`): fixed for the
 * CIFAR sources, the crop size and train/'s class folders for an image folder.
 */
export function describeInput(data: DataConfig): Result<InputShape & { description: string }, string> {
  switch (data.source) {
    case 'synthetic':
      return ok({ ...CIFAR10_GEOMETRY, description: 'synthetic (CIFAR-10-shaped)' });
    case 'cifar10':
      return ok({ ...CIFAR10_GEOMETRY, description: 'CIFAR-10' });
    case 'cifar100': {
      const classes = data.cifar100.labels === 'fine' ? 100 : 20;
      return ok({ height: CIFAR_SIZE, width: CIFAR_SIZE, classes, description: `CIFAR-100, ${data.cifar100.labels} labels` });
    }
    case 'imagefolder': {
      if (data.dir === undefined) return err('data.dir is required with source imagefolder');
      const classes = imageFolderClasses(data.dir);
      if (!classes.ok) return classes;
      const { size, crop } = data.imagefolder;
      return ok({ height: crop, width: crop, classes: classes.value.length, description: `image folder ${data.dir}, stored at ${size}x${size}` });
    }
  }
}

/** What a run would find wrong with its data before reading it (for a sweep's preflight); undefined when fine. */
export function dataProblem(data: DataConfig): string | undefined {
  try {
    switch (data.source) {
      case 'synthetic':
        return undefined;
      case 'imagefolder': {
        const input = describeInput(data);
        return input.ok ? undefined : input.error;
      }
      case 'cifar10':
      case 'cifar100': {
        const release = RELEASES[data.source];
        const dir = locateRelease(release, data.dir);
        // The run reads (and checks) the files themselves; here only that there are some.
        const what = release.id === 'cifar10' ? 'data_batch_*.bin files' : 'train.bin';
        return hasTrainFiles(release, dir) ? undefined : `no ${release.title} ${what} in ${dir}; run \`resnet-exp fetch ${release.id}\` or pass --data-dir`;
      }
    }
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}
