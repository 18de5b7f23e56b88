import * as tf from '@tensorflow/tfjs';
import { graphEmbed, graphProp, initNodes } from './dgmg';
import { gatherRows } from './ops';
import type { ModelConfig, Params } from './params';
import type { StepPlan } from './schedule';

/** The batch's state between two steps: node table H_s and graph embeddings hG_s. */
export interface Tables {
  readonly h: tf.Tensor2D;
  readonly hG: tf.Tensor2D;
}

const ints = (a: Int32Array): tf.Tensor1D => tf.tensor1d(a, 'int32');

/** The tables before any node exists: every graph is empty and has h_G = 0. */
export function emptyTables(cfg: ModelConfig, numGraphs: number): Tables {
  return { h: tf.zeros([0, cfg.nodeSize]), hG: tf.zeros([numGraphs, 2 * cfg.nodeSize]) };
}

/**
 * One lockstep step: propagate the graphs that added an edge, initialise the nodes that were
 * added (from the embedding before they were added), carry every other row, then re-embed.
 */
export function advance(p: Params, cfg: ModelConfig, prev: Tables, plan: StepPlan): Tables {
  const parts: tf.Tensor2D[] = [prev.h];
  if (plan.prop) {
    const pp = plan.prop;
    const edges = { src: ints(pp.src), dst: ints(pp.dst), deg: tf.tensor2d(pp.deg, [pp.deg.length, 1]) };
    parts.push(graphProp(p, cfg, gatherRows(prev.h, ints(pp.rows)), edges));
  }
  if (plan.init) parts.push(initNodes(p, cfg.nodeSize, gatherRows(prev.hG, ints(plan.init))));
  const h = gatherRows(tf.concat(parts, 0) as tf.Tensor2D, ints(plan.assemble));
  return { h, hG: graphEmbed(p, h, ints(plan.graphOfRow), plan.numGraphs) };
}
