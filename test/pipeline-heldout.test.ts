import t from 'tap';
import type { Graph } from '../graphs/graph';
import { adamState } from '../model/adam';
import { paramLayout } from '../model/params';
import { heldOutNll } from '../pipeline/commands/eval';
import { configFromJson } from '../pipeline/config';

/**
 * The held-out NLL against a value worked out by hand. With every weight zero, each decision's
 * logits are its biases: adding a node stops with probability sigmoid(addNode.stop.b), adding an
 * edge stops with sigmoid(addEdge.stop.b), and a destination is drawn uniformly from the node's
 * earlier nodes. With the stop biases ln 3 and -ln 3, a graph of n nodes and m edges, built in
 * its natural order, has
 *   NLL = n ln 4 + ln 4/3      (n adds at 1/4, then a stop at 3/4)
 *       + m ln 4/3 + n ln 4    (m edges at 3/4, n "no more edges" at 1/4)
 *       + sum over edges of ln(position of the later end)   (its earlier nodes to choose from).
 */
t.test('held-out NLL of a model whose decisions are known in closed form', async (t) => {
  const config = configFromJson({ model: { nodeSize: 4, propRounds: 1 }, data: { order: 'natural' } }, 'closed-form model');
  const layout = paramLayout(config.model);
  const params = new Float32Array(layout.total);
  const bias = (name: string, value: number): void => {
    const i = layout.specs.findIndex((s) => s.name === name);
    t.not(i, -1, `the model has ${name}`);
    params[layout.offsets[i]] = value;
  };
  bias('addNode.stop.b', Math.log(3));
  bias('addEdge.stop.b', -Math.log(3));
  const ckpt = { config, params, adam: adamState(layout.total), step: 0, graphsSeen: 0 };
  const closedForm = (g: Graph): number =>
    2 * g.numNodes * Math.log(4) + (1 + g.edges.length) * Math.log(4 / 3) + g.edges.reduce((s, [u, v]) => s + Math.log(Math.max(u, v)), 0);
  const graphs: Graph[] = [
    { numNodes: 0, edges: [] },
    { numNodes: 1, edges: [] },
    { numNodes: 3, edges: [[0, 1], [1, 2]] },
    { numNodes: 3, edges: [[0, 1], [0, 2], [1, 2]] },
    { numNodes: 5, edges: [[4, 0], [3, 1], [2, 4], [1, 4]] },
  ];
  for (const g of graphs) {
    const got = heldOutNll(ckpt, [g]);
    t.ok(Math.abs(got - closedForm(g)) < 1e-5, `${g.numNodes} nodes, edges ${JSON.stringify(g.edges)}: ${got} vs ${closedForm(g)} by hand`);
  }
  const mean = graphs.reduce((s, g) => s + closedForm(g), 0) / graphs.length;
  t.ok(Math.abs(heldOutNll(ckpt, graphs) - mean) < 1e-5, `the mean over the graphs: ${heldOutNll(ckpt, graphs)} vs ${mean}`);
});
