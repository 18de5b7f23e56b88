import type { ModelConfig } from './params';
import { constraintRules, constraintsProblem } from './constraints';
import { ValenceRoom, valenceRuleOf } from './valence';

/**
 * What a constraint that is part of the model leaves of a graph's add-edge and choose-destination
 * decisions (docs/design.md, 'Valence constraint' and 'Structural constraints'). The teacher's
 * schedule, the sampler and the reference path all ask a RuleSet, so a removed action gets logit
 * -inf in training and sampling alike and a decision left with one action adds no term.
 */
export interface ActionRule {
  /** Follows the graph in flight: a new node of type `type`; a new edge (never a repeated one) of type `type` from the newest node v to u. */
  addNode(type: number): void;
  addEdge(v: number, u: number, type: number): void;
  /** Whether the newest node itself may take a new edge of `type`. */
  takes(type: number): boolean;
  /** Whether earlier node `u` may be the destination of the newest node's edge of type `type`. */
  fits(u: number, type: number): boolean;
  /** Whether the newest node may stop adding edges; false forces an add. */
  mayStop(): boolean;
  /**
   * Whether the rule makes every node after the first take an edge to an earlier one: then a new
   * node may come only while some earlier node has room for an edge (RuleSet.mayAddNode).
   */
  readonly joinsEveryNode: boolean;
  /** How an action it removes would break the rule, for messages, e.g. "would make the graph non-planar". */
  readonly refusal: string;
}

/** The rules of one graph in flight, all at once: an action is left when every rule leaves it. */
export class RuleSet {
  private nodes = 0;
  /** Whether a rule joins every node to an earlier one (read once: mayAddNode runs at every add-node decision). */
  private readonly joins: boolean;

  constructor(
    private readonly rules: readonly ActionRule[],
    private readonly edgeTypes: number,
  ) {
    this.joins = rules.some((r) => r.joinsEveryNode);
  }

  addNode(type: number): void {
    this.nodes++;
    for (const r of this.rules) r.addNode(type);
  }

  addEdge(v: number, u: number, type: number): void {
    for (const r of this.rules) r.addEdge(v, u, type);
  }

  fits(u: number, type: number): boolean {
    for (const r of this.rules) if (!r.fits(u, type)) return false;
    return true;
  }

  private takes(type: number): boolean {
    for (const r of this.rules) if (!r.takes(type)) return false;
    return true;
  }

  mayStop(): boolean {
    for (const r of this.rules) if (!r.mayStop()) return false;
    return true;
  }

  /**
   * Whether a new node may come: always, unless a rule joins every node to an earlier one and no
   * earlier node fits an edge of any type (a molecule whose atoms are all saturated). Then the
   * add-node decision is forced to stop, since the new node could not keep its rule. Every node
   * type takes an edge of some type (constraintsProblem), so an earlier node that fits one is enough.
   */
  mayAddNode(): boolean {
    if (this.nodes === 0 || !this.joins) return true;
    for (let b = 0; b < this.edgeTypes; b++) for (let u = 0; u < this.nodes; u++) if (this.fits(u, b)) return true;
    return false;
  }

  /** Why the rules remove every new node now, for messages. */
  whyNotNode(): string {
    return `would not be joined to an earlier node, none of which has room for an edge (${this.rules.find((r) => r.joinsEveryNode)?.refusal ?? ''})`;
  }

  /**
   * The edge types the newest node may add, bit b for type b: those it takes and some earlier
   * node fits (else no destination could take the edge). 0: add-edge is forced to "no more edges".
   */
  allowedEdgeTypes(): number {
    const v = this.nodes - 1;
    let bits = 0;
    for (let b = 0; b < this.edgeTypes; b++) {
      if (v < 0 || !this.takes(b)) continue;
      for (let u = 0; u < v; u++) {
        if (this.fits(u, b)) {
          bits |= 1 << b;
          break;
        }
      }
    }
    return bits;
  }

  /** Why the rules remove "no more edges" now, for messages. */
  whyNotStop(): string {
    return this.rules.find((r) => !r.mayStop())?.refusal ?? '';
  }

  /** Why the rules remove an edge of `type` from the newest node, for messages. */
  whyNotType(type: number): string {
    const rule = this.rules.find((r) => !r.takes(type));
    return rule ? rule.refusal : `leaves no destination: at every earlier node it ${this.whyNotDest(0, type)}`;
  }

  /** Why the rules remove destination `u` of an edge of `type`, for messages. */
  whyNotDest(u: number, type: number): string {
    return this.rules.find((r) => !r.fits(u, type))?.refusal ?? '';
  }

  /** Writes the earlier nodes that fit an edge of `type` from the newest node into `out`, in order; returns how many. */
  candidates(type: number, out: Int32Array): number {
    let count = 0;
    for (let u = 0; u < this.nodes - 1; u++) if (this.fits(u, type)) out[count++] = u;
    return count;
  }
}

/** A model's rules: a fresh RuleSet per graph, and a key naming them for caches (null: cheap rules, not cached). */
export interface ModelRules {
  start(maxNodes: number): RuleSet;
  readonly cacheKey: string | null;
}

/**
 * The rules a model applies: its valence constraint and its structural constraints; null: none
 * (the unconstrained model). Walks are cached under structural constraints, keyed by every rule.
 */
export function rulesOf(cfg: ModelConfig): ModelRules | null {
  const problem = constraintsProblem(cfg);
  if (problem) throw new Error(problem);
  const valence = valenceRuleOf(cfg);
  const edgeTypes = Math.max(1, cfg.edgeTypes?.length ?? 0);
  const names = cfg.constraints ?? [];
  if (!valence && !names.length) return null;
  const start = (maxNodes: number): RuleSet => new RuleSet([...(valence ? [new ValenceRoom(valence, maxNodes)] : []), ...constraintRules(names, maxNodes)], edgeTypes);
  return { start, cacheKey: names.length ? `${valence ? 'valence,' : ''}${names.join(',')}` : null };
}
