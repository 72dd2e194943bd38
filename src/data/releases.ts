import { CIFAR10_FORMAT, cifar100Format, recordBytes } from './cifar-format.js';

export type ReleaseId = 'cifar10' | 'cifar100';

/**
 * An official binary release (https://www.cs.toronto.edu/~kriz/cifar.html): where to download it, how to
 * verify and unpack it, and which of its files the reader takes. `fetch`, `run`'s search for the data and
 * the reader all work from this description.
 */
export interface CifarRelease {
  readonly id: ReleaseId;
  /** As messages name it. */
  readonly title: string;
  readonly url: string;
  /** Lower-case hex MD5 of the archive. */
  readonly md5: string;
  readonly bytes: number;
  /** The folder every archive member lives in; also the data folder's name in the download cache. */
  readonly folder: string;
  /**
   * Every regular file of the archive, nothing else is extracted. Listed in install order: training files
   * last, since a folder with a training file is taken as data.
   */
  readonly files: readonly string[];
  /** Training file names; group 1, where present, orders them (data_batch_10 follows data_batch_9). */
  readonly trainFile: RegExp;
  readonly testFile: string;
  /** Size of one record; a .bin file must hold whole records. */
  readonly recordBytes: number;
  /** Environment variables that point `fetch` at a mirror. */
  readonly env: { readonly url: string; readonly md5: string };
}

export const CIFAR10: CifarRelease = {
  id: 'cifar10',
  title: 'CIFAR-10',
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  bytes: 170_052_171,
  folder: 'cifar-10-batches-bin',
  files: ['batches.meta.txt', 'readme.html', 'test_batch.bin', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  trainFile: /^data_batch_(\d+)\.bin$/,
  testFile: 'test_batch.bin',
  recordBytes: recordBytes(CIFAR10_FORMAT),
  env: { url: 'RESNET_EXP_CIFAR_URL', md5: 'RESNET_EXP_CIFAR_MD5' },
};

/**
 * The binary version (not the python pickles, whose archive has MD5 eb9058c3…): 50,000 training and 10,000
 * test records of a coarse label byte, a fine label byte and the 3,072 pixel bytes.
 */
export const CIFAR100: CifarRelease = {
  id: 'cifar100',
  title: 'CIFAR-100',
  url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
  md5: '03b5dce01913d631647c71ecec9e9cb8',
  bytes: 168_513_733,
  folder: 'cifar-100-binary',
  files: ['coarse_label_names.txt', 'fine_label_names.txt', 'test.bin', 'train.bin'],
  trainFile: /^train\.bin$/,
  testFile: 'test.bin',
  recordBytes: recordBytes(cifar100Format('fine')),
  env: { url: 'RESNET_EXP_CIFAR100_URL', md5: 'RESNET_EXP_CIFAR100_MD5' },
};

export const RELEASES: Record<ReleaseId, CifarRelease> = { cifar10: CIFAR10, cifar100: CIFAR100 };
