import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels } from './kernels';

/**
 * The tfjs backend of the one-graph reference path (reference.ts), the oracle the tests hold the
 * engine to. Training and sampling do not use tfjs: they run on the engine (engine.ts).
 */
export type BackendChoice = 'wasm' | 'cpu';

/** Selects and initialises a tfjs backend for the reference path, with our kernels registered. */
export async function initBackend(choice: BackendChoice): Promise<string> {
  tf.enableProdMode();
  if (!(await tf.setBackend(choice))) throw new Error(`tfjs backend ${choice} failed to initialise`);
  await tf.ready();
  registerFastKernels(choice);
  return choice;
}
