import { isMoleculeVocabulary } from '../graphs/molecule';
import { valenceRule, type ValenceRule } from '../graphs/valence';
import type { ModelConfig } from './params';

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
 * The bond orders each atom of one graph in flight still has room for. Sized once for the most
 * nodes the graph may have, so the sampler's steps allocate nothing.
 */
export class ValenceRoom {
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

  addEdge(u: number, v: number, type: number): void {
    this.room[u] -= this.rule.order[type];
    this.room[v] -= this.rule.order[type];
  }

  /** Whether atom `u` can take one more bond of edge type `type`. */
  fits(u: number, type: number): boolean {
    return this.room[u] >= this.rule.order[type];
  }

  /**
   * The edge types the newest atom may add, bit b for type b: those it has room for and that
   * some earlier atom has room for (else no destination could take the bond). 0: add-edge is
   * forced to "no more edges".
   */
  allowedEdgeTypes(): number {
    const v = this.nodes - 1;
    let bits = 0;
    for (let b = 0; b < this.rule.order.length; b++) {
      if (v < 0 || !this.fits(v, b)) continue;
      for (let u = 0; u < v; u++) {
        if (this.fits(u, b)) {
          bits |= 1 << b;
          break;
        }
      }
    }
    return bits;
  }
}
