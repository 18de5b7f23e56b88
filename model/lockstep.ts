import * as tf from '@tensorflow/tfjs';
import { graphEmbed, graphProp, initNodes, type Weights } from './dgmg';
import { pickRows } from './fused';
import { gatherRows, indices } from './ops';
import type { ModelConfig } from './params';
import type { StepPlan } from './schedule';

/** The batch's state between two steps: node table H_s and graph embeddings hG_s. */
export interface Tables {
  readonly h: tf.Tensor2D;
  readonly hG: tf.Tensor2D;
}

/** The tables before any node exists: every graph is empty, and its h_G is the learned embed.empty. */
export function emptyTables(w: Weights, cfg: ModelConfig, numGraphs: number): Tables {
  const hG = tf.matMul(tf.ones([numGraphs, 1]), w.p['embed.empty'].reshape([1, 2 * cfg.nodeSize])) as tf.Tensor2D;
  return { h: tf.zeros([0, cfg.nodeSize]), hG };
}

/**
 * One lockstep step: propagate the graphs that added an edge, initialise the nodes that were
 * added (from the embedding before they were added), carry every other row, then re-embed.
 */
export function advance(w: Weights, cfg: ModelConfig, prev: Tables, plan: StepPlan): Tables {
  const parts: tf.Tensor2D[] = [prev.h];
  if (plan.prop) parts.push(graphProp(w, cfg, gatherRows(prev.h, indices(plan.prop.rows)), plan.prop));
  if (plan.init) parts.push(initNodes(w, gatherRows(prev.hG, indices(plan.init))));
  const h = pickRows(parts, plan.assemble);
  return { h, hG: graphEmbed(w, h, plan.graphOfRow, plan.numGraphs) };
}
