/**
 * Bounds on sizes, stated by the schema so that `validate` refuses them before anything is built. Each is well
 * above what the papers train (ResNet-1202 in He et al. 2015, Table 6; wide ResNets of up to 146M parameters),
 * and well below what makes TF.js grind for minutes or fail deep inside ("Invalid typed array length").
 */
export const LIMITS = {
  /** 6n+2 with n ≤ 333: ResNet-1202 fits with room. */
  depth: 2000,
  /** First-stage filters; the last stage has 4·width. */
  width: 1024,
  /** Trainable parameters of one network: 2 GB of float32 weights (the widest WRN of Zagoruyko & Komodakis 2016 has 146M). */
  params: 500_000_000,
  /** The CIFAR-10 training set. */
  trainImages: 50_000,
  /** The CIFAR-10 test set. */
  validationImages: 10_000,
  /** Elements of one typed array in V8 (Node 20): any single tensor beyond it cannot exist. */
  tensorElements: 2 ** 32,
} as const;

