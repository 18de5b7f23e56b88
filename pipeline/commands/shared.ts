import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCheckpoint, type Checkpoint } from '../checkpoint';
import { loadDataset, type Dataset } from '../dataset';

/** The folder the package is installed in (configs/ and models/ live there). */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..', '..');

/** The config `train` uses when none is given. */
export const DEFAULT_CONFIG_FILE = 'configs/cycles.json';

/** The checkpoint that ships with the package, used when no --model is given. */
export const DEFAULT_MODEL_FILE = join(PACKAGE_ROOT, 'models', 'cycles.json');

/** A path as given, or else relative to the package (so `configs/cycles.json` works from anywhere). */
export function resolveShipped(file: string): string {
  return existsSync(file) ? file : existsSync(join(PACKAGE_ROOT, file)) ? join(PACKAGE_ROOT, file) : file;
}

/** A model to sample or evaluate: the checkpoint given, or the one that ships. */
export function loadModel(file: string | null): { file: string; ckpt: Checkpoint } {
  const f = file ?? DEFAULT_MODEL_FILE;
  return { file: f, ckpt: loadCheckpoint(f) };
}

/** The dataset a checkpoint was trained on (regenerated from its config and seed). */
export function datasetOf(ckpt: Checkpoint): Promise<Dataset> {
  return loadDataset(ckpt.config, ckpt.config.train.seed);
}
