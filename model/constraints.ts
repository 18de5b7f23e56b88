import type { Graph } from '../graphs/graph';
import { PlanarGrowth, isPlanar } from '../graphs/planarity';
import type { ModelConfig } from './params';
import type { ActionRule } from './rules';
import { valenceRuleOf } from './valence';

/**
 * Structural constraints as a part of the model (docs/design.md, 'Structural constraints'):
 * model.constraints names them, and like the valence constraint they remove actions in the
 * teacher, the sampler and the reference alike, so nothing is filtered afterwards.
 */
export const CONSTRAINTS = ['connected', 'planar'] as const;
export type ConstraintName = (typeof CONSTRAINTS)[number];

/** Why `cfg`'s model.constraints cannot be applied (the key and the reason), or null. */
export function constraintsProblem(cfg: ModelConfig): string | null {
  const names: unknown = cfg.constraints ?? [];
  if (!Array.isArray(names)) return `model.constraints must be a list of constraint names (known: ${CONSTRAINTS.join(', ')}), got ${JSON.stringify(names)}`;
  for (const [i, x] of names.entries()) {
    if (!CONSTRAINTS.includes(x as ConstraintName)) return `model.constraints: unknown constraint ${typeof x === 'string' ? `'${x}'` : JSON.stringify(x)}; known: ${CONSTRAINTS.join(', ')}`;
    if (names.indexOf(x) !== i) return `model.constraints lists '${String(x)}' twice`;
  }
  // the rules' masks hold a bit per edge type and one for stop (model/schedule.ts)
  if (names.length && (cfg.edgeTypes?.length ?? 0) > 30) return `model.constraints: a model with constraints has at most 30 edge types, not ${cfg.edgeTypes?.length}`;
  const valence = valenceRuleOf(cfg);
  if (!valence || !names.includes('connected')) return null;
  // under valences a saturated molecule must stop (RuleSet.mayAddNode), so a planned size could not be kept
  if ((cfg.plannedSize ?? 0) > 0) return `model.constraints: connected with the valence constraint cannot keep model.plannedSize (a molecule whose atoms are all saturated can neither grow to its size nor stop); leave one of them out`;
  const least = Math.min(...valence.order);
  const alone = (cfg.nodeTypes ?? []).find((_, k) => valence.cap[k] < least);
  if (alone !== undefined) return `model.constraints: connected needs every atom type to take a bond, but RDKit's default valences leave ${alone} room for none of [${(cfg.edgeTypes ?? []).join(', ')}]; leave out the type or the constraint`;
  return null;
}

/**
 * "connected": every node after the first adds at least one edge, so its first add-edge decision
 * loses "no more edges" (with one edge type the add is then the one action left and adds no term).
 */
class ConnectedRule implements ActionRule {
  readonly refusal = 'would leave the node without an earlier neighbour (model.constraints has connected)';
  readonly joinsEveryNode = true;
  private nodes = 0;
  private newestDegree = 0;

  addNode(): void {
    this.nodes++;
    this.newestDegree = 0;
  }

  addEdge(): void {
    this.newestDegree++;
  }

  takes(): boolean {
    return true;
  }

  fits(): boolean {
    return true;
  }

  mayStop(): boolean {
    return this.nodes <= 1 || this.newestDegree > 0;
  }
}

/** "planar": a destination whose new edge would make the graph non-planar is removed (PlanarGrowth). */
class PlanarRule implements ActionRule {
  readonly refusal = 'would make the graph non-planar (model.constraints has planar)';
  readonly joinsEveryNode = false;
  private readonly growth: PlanarGrowth;

  constructor(maxNodes: number) {
    this.growth = new PlanarGrowth(maxNodes);
  }

  addNode(): void {
    this.growth.addNode();
  }

  addEdge(_v: number, u: number): void {
    this.growth.addEdge(u);
  }

  takes(): boolean {
    return true;
  }

  fits(u: number): boolean {
    return this.growth.keepsPlanar(u);
  }

  mayStop(): boolean {
    return true;
  }
}

/** The rules of the constraints `names` for one graph of up to `maxNodes` nodes. */
export function constraintRules(names: readonly string[], maxNodes: number): ActionRule[] {
  return names.map((name) => (name === 'connected' ? new ConnectedRule() : new PlanarRule(maxNodes)));
}

/**
 * Why training graph `g`, its nodes placed in `order` (entry i: the node at position i), cannot be
 * taught under the constraints `names`, or null: a node after the first with no earlier neighbour
 * ("connected"), a graph that is not planar ("planar"). Either would make a teacher sequence take
 * an action the model removes.
 */
export function constraintBreach(g: Graph, order: readonly number[], names: readonly string[]): string | null {
  if (names.includes('connected')) {
    const position = new Int32Array(g.numNodes);
    order.forEach((v, i) => (position[v] = i));
    const hasEarlier = new Uint8Array(g.numNodes);
    for (const [a, b] of g.edges) hasEarlier[position[a] > position[b] ? a : b] = 1;
    const lone = order.findIndex((v, i) => i > 0 && !hasEarlier[v]);
    if (lone > 0) return `node ${order[lone]} (position ${lone} in the node order) has no earlier neighbour, but model.constraints has connected: every node after the first needs one`;
  }
  if (names.includes('planar') && !isPlanar(g)) return 'the graph is not planar, but model.constraints has planar';
  return null;
}
