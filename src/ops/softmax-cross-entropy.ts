import * as tf from '@tensorflow/tfjs-core';

/**
 * The training loss and the error count of a batch of logits: mean softmax cross-entropy over the batch (as
 * PyTorch's CrossEntropyLoss) and how many rows' argmax is not the label. TF.js spells them as ~40 small kernel
 * calls forward and backward (oneHot, logSumExp's max/sub/exp/sum/log, mul, neg, sum, the mean's division, argMax,
 * notEqual, sum, and their gradients), each with its JS bookkeeping; on a [32, 10] batch the bookkeeping is all
 * there is. A backend may do it in one call forward and one backward.
 *
 * Kernel contract (registered with tf.registerKernel by backends that have it):
 *  - SOFTMAX_CROSS_ENTROPY: inputs {logits: float32 [N, K], labels: int32 [N], each in [0, K)}; outputs
 *    [loss: float32 scalar, mean over rows of logSumExp(row) − row[label]; wrong: int32 scalar, rows whose first
 *    maximum (tf.argMax's tie rule) is not at the label]. NaN logits give a NaN loss.
 *  - SOFTMAX_CROSS_ENTROPY_GRAD: inputs {dy: float32 scalar, logits, labels}; output dLogits [N, K] =
 *    (softmax(row) − oneHot(label))·dy/N. The count has no gradient.
 * The kernels may compute in higher precision than the composite's float32 steps (they differ in the last bits).
 * Backends without them get the composite: tf.losses.softmaxCrossEntropy of tf.oneHot, and argMax/notEqual/sum.
 */
export const SOFTMAX_CROSS_ENTROPY = 'ResnetExpSoftmaxCrossEntropy';
export const SOFTMAX_CROSS_ENTROPY_GRAD = 'ResnetExpSoftmaxCrossEntropyGrad';

export interface LossAndWrong {
  /** Mean cross-entropy over the batch. */
  loss: tf.Scalar;
  /** Misclassified rows (int32). */
  wrong: tf.Scalar;
}

export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): LossAndWrong {
  if (hasKernels(tf.getBackend())) {
    installGradient();
    const [loss, wrong] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits, labels }) as tf.Tensor[];
    return { loss: loss as tf.Scalar, wrong: wrong as tf.Scalar };
  }
  return softmaxCrossEntropyComposite(logits, labels);
}

/** TF.js's own ops: the fallback, and the reference the kernels are tested against. */
export function softmaxCrossEntropyComposite(logits: tf.Tensor2D, labels: tf.Tensor1D): LossAndWrong {
  return {
    loss: tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar,
    wrong: tf.sum(tf.notEqual(tf.argMax(logits, 1), labels)),
  };
}

const hasKernels = (backend: string): boolean =>
  tf.getKernel(SOFTMAX_CROSS_ENTROPY, backend) !== undefined && tf.getKernel(SOFTMAX_CROSS_ENTROPY_GRAD, backend) !== undefined;

const gradient: tf.GradConfig = {
  kernelName: SOFTMAX_CROSS_ENTROPY,
  inputsToSave: ['logits', 'labels'],
  gradFunc: (dy, saved) => {
    const [logits, labels] = saved;
    // Two outputs, so dy is [dLoss, dWrong]; the count's (zeros from TF.js) is ignored.
    const dLoss = Array.isArray(dy) ? dy[0] : dy;
    return {
      logits: () => tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD, { dy: dLoss, logits, labels }) as tf.Tensor,
      labels: () => tf.zerosLike(labels),
    };
  },
};

/** Once, lazily: registering a gradient is global and logs a warning when repeated. */
function installGradient(): void {
  if (tf.getGradient(SOFTMAX_CROSS_ENTROPY) !== gradient) tf.registerGradient(gradient);
}
