import t from 'tap';
import { renderGenerationHtml, typedAnimationOptions } from '../draw/animate';
import { renderGraphGridSvg } from '../draw/svg';
import { BOND_TYPES, type MoleculeVocabulary, type TypedGraph } from '../graphs/molecule';
import { encodeGraph } from '../graphs/sequence';
import { moleculeGridOptions } from '../pipeline/commands/molecules';
import { loadRDKit, moleculesOf, STRICT } from '../pipeline/molecules';
import { checkXml } from './xml';

const VOCAB: MoleculeVocabulary = { nodeTypes: ['C', 'N', 'O', 'N+', 'O-'], edgeTypes: BOND_TYPES };

t.test('draw: valid molecules as RDKit depictions, invalid ones as labelled nodes with bond lines', async (t) => {
  const rd = await loadRDKit();
  const [benzene, nitromethane] = moleculesOf(rd, [{ smiles: 'c1ccccc1', where: 'a' }, { smiles: 'C[N+](=O)[O-]', where: 'b' }], VOCAB, STRICT).graphs;
  // O=C=O=C: the middle O has two double bonds, more than oxygen's valence.
  const invalid: TypedGraph = { numNodes: 4, edges: [[0, 1], [1, 2], [2, 3]], nodeTypes: [2, 0, 2, 0], edgeTypes: [1, 1, 1] };
  const opts = moleculeGridOptions(rd, [benzene, invalid, nitromethane], VOCAB);
  t.same(opts.valid, [true, false, true]);
  t.same(opts.captions, ['c1ccccc1', '4 atoms', 'C[N+](=O)[O-]']);
  const svg = renderGraphGridSvg([benzene, invalid, nitromethane], { ...opts, title: 'molecules' });
  const counts = checkXml(svg);
  t.equal(counts.get('svg'), 3, 'the grid and two nested depictions');
  t.equal(counts.get('circle'), 4, 'circles only for the invalid graph, one per atom');
  t.equal(counts.get('line'), 6, 'its three double bonds, two lines each');
  const invalidCell = svg.slice(svg.indexOf('graph invalid'), svg.indexOf('#2: 4 atoms'));
  t.same([...invalidCell.matchAll(/>(C|O)<\/text>/g)].map((m) => m[1]), ['O', 'C', 'O', 'C'], 'atoms labelled by type');
  t.match(svg, /#1: c1ccccc1 · valid/);
  t.match(svg, /#2: 4 atoms · invalid/);
  t.match(svg, /<svg version='1.1'[^>]* x="[\d.]+" y="[\d.]+" width="164" height="164">/, 'RDKit\'s own size replaced by the cell');
  t.notMatch(svg, /<\?xml/, 'no XML declaration inside the document');
});

t.test('animate: atoms labelled by element, bond orders as lines and in the captions', async (t) => {
  const rd = await loadRDKit();
  const [g] = moleculesOf(rd, [{ smiles: 'C[N+](=O)[O-]', where: 'a' }], VOCAB, STRICT).graphs;
  const html = renderGenerationHtml(encodeGraph(g), { title: 'nitromethane', ...typedAnimationOptions(g, VOCAB) });
  const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6);
  const counts = checkXml(svg);
  t.equal(counts.get('circle'), 4);
  t.equal(counts.get('line'), 4, 'two single bonds, one double bond drawn twice');
  t.equal((svg.match(/class="edge"/g) ?? []).length, 3, 'one element per bond, for the replay');
  t.same([...svg.matchAll(/>([A-Z][a-z]?[+-]?)<\/text>/g)].map((m) => m[1]).sort(), ['C', 'N+', 'O', 'O-']);
  const captions = JSON.parse(/var frames = (.*);\n/.exec(html)?.[1] ?? 'null').map((f: { caption: string }) => f.caption).join('\n') as string;
  t.match(captions, /add a node\? yes: N\+ \(node 1\)/);
  t.match(captions, /add an edge from O \(node 2\)\? yes: double\n.*connect O \(node 2\) to N\+ \(node 1\)/);
  t.same(typedAnimationOptions({ numNodes: 2, edges: [[0, 1]] }, VOCAB).nodeLabels, ['C', 'C'], 'absent types are type 0');
});
