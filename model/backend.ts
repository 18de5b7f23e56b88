import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels } from './kernels';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

const TFJS_NODE_HINT =
  'the tensorflow backend needs @tensorflow/tfjs-node@4.22.0, whose install downloads libtensorflow: ' +
  'on a machine with internet access run `npm install @tensorflow/tfjs-node@4.22.0` in the dgmg-pipe folder';

/** Loads tfjs-node if it is installed; false when it is absent or cannot load here. */
function loadTfjsNode(): boolean {
  try {
    // Optional dependency, never installed by `npm ci`: a plain require keeps tsc from needing its types.
    require('@tensorflow/tfjs-node');
    return tf.findBackendFactory('tensorflow') != null;
  } catch {
    return false;
  }
}

/**
 * Selects and initialises a tfjs backend. `auto` takes tfjs-node when it loads, else wasm, the
 * fastest measured here (wasm ~10x cpu on this model with our kernels). Returns the backend in use.
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<string> {
  let name: string;
  if (choice === 'auto') name = loadTfjsNode() ? 'tensorflow' : 'wasm';
  else if (choice === 'tensorflow') {
    if (!loadTfjsNode()) throw new Error(`--backend tensorflow: @tensorflow/tfjs-node is not installed; ${TFJS_NODE_HINT}`);
    name = 'tensorflow';
  } else name = choice;
  tf.enableProdMode();
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} failed to initialise`);
  await tf.ready();
  if (name === 'wasm' || name === 'cpu') registerFastKernels(name);
  return name;
}
