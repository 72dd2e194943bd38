/**
 * TF.js registers op gradients only through its union package (`@tensorflow/tfjs`, whose Node bundle calls
 * register_all_gradients; tfjs-core's own ESM files can't be imported by Node directly). Training needs them all;
 * the registry is global, so every backend sees them. Our ReLU gradient goes on top, after TF.js's own: the
 * import above runs first, once per process. Tensors saved for the backward pass are kept by reference rather
 * than through an Identity kernel each (saved-tensors.ts).
 */
import '@tensorflow/tfjs';
import { installReluGradient } from './relu.js';
import { installSaveByReference } from './saved-tensors.js';

installReluGradient();
installSaveByReference();
