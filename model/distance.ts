/**
 * The destination-distance term (docs/design.md, 'Destination distance'): with D =
 * model.destinationDistance >= 1, a destination decision of the newest node v scores candidate u
 * with delta[kappa(u, v), b] added, kappa the bucket of their distance in the graph as it stands
 * at the decision, in the teacher, the sampler and the reference alike. D = 0 is plain DGMG.
 */

/**
 * kappa for a shortest-path distance `dist` (-1: not reachable) under D: min(dist, D) - 1 for a
 * reachable node (0 to D - 1; 0 is a neighbour already), D for one in another component.
 */
export function distanceBucket(dist: number, D: number): number {
  return dist < 0 ? D : Math.min(dist, D) - 1;
}
