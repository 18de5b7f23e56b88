import { isMoleculeVocabulary } from '../graphs/molecule';
import { valenceRule, type ValenceRule } from '../graphs/valence';
import type { ModelConfig } from './params';
import type { ActionRule } from './rules';

/**
 * The valence constraint as a part of the model (docs/design.md, 'Valence constraint'): before an
 * add-edge or choose-destination decision, the actions that would give an atom more bond orders
 * than its type allows are removed and the decision is normalised over the rest, in the teacher,
 * the sampler and the reference alike. A decision left with one action is forced and adds no
 * log-probability term.
 */

/** The rule a model applies: on for a molecule model whose config says model.valenceMask; null otherwise (untyped models, old checkpoints). */
export function valenceRuleOf(cfg: ModelConfig): ValenceRule | null {
  if (cfg.valenceMask !== true || !isMoleculeVocabulary({ nodeTypes: cfg.nodeTypes ?? [], edgeTypes: cfg.edgeTypes ?? [] })) return null;
  return valenceRule({ nodeTypes: cfg.nodeTypes ?? [], edgeTypes: cfg.edgeTypes ?? [] });
}

/**
 * The bond orders each atom of one graph in flight still has room for: the valence constraint's
 * rule (model/rules.ts). Sized once for the most nodes the graph may have, so the sampler's steps
 * allocate nothing.
 */
export class ValenceRoom implements ActionRule {
  private readonly room: Int32Array;
  private nodes = 0;

  constructor(
    private readonly rule: ValenceRule,
    maxNodes: number,
  ) {
    this.room = new Int32Array(maxNodes);
  }

  addNode(type: number): void {
    this.room[this.nodes++] = this.rule.cap[type];
  }

  addEdge(v: number, u: number, type: number): void {
    this.room[v] -= this.rule.order[type];
    this.room[u] -= this.rule.order[type];
  }

  /** Whether atom `u` can take one more bond of edge type `type`. */
  fits(u: number, type: number): boolean {
    return this.room[u] >= this.rule.order[type];
  }

  /** Whether the newest atom has room for a bond of type `type`. */
  takes(type: number): boolean {
    return this.nodes > 0 && this.fits(this.nodes - 1, type);
  }

  readonly refusal = 'would exceed a valence: an atom has no room for the bond';

  readonly joinsEveryNode = false;

  /** An atom may always stop adding bonds. */
  mayStop(): boolean {
    return true;
  }
}
