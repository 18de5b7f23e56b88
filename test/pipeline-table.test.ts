import t from 'tap';
import { formatReport, formatValue, label } from '../pipeline/table';

t.test('numbers are rounded for reading, integers kept whole', async (t) => {
  t.equal(formatValue(0.9946236559139785), '0.9946');
  t.equal(formatValue(19.72784), '19.73');
  t.equal(formatValue(0.000157450145), '1.575e-4');
  t.equal(formatValue(0.00001), '1e-5');
  t.equal(formatValue(35658), '35658');
  t.equal(formatValue(0), '0');
  t.equal(formatValue(null), '-');
  t.equal(formatValue(true), 'yes');
  t.equal(formatValue(['C', 'O']), 'C, O');
});

t.test('keys are spelt out unless a label says better', async (t) => {
  t.equal(label('meanNodes'), 'mean nodes');
  t.equal(label('heldOutNll'), 'held-out NLL (nats)');
  t.equal(label('atom types'), 'atom types', 'a key that is already words stays');
});

t.test('rows align, sections indent, histograms list their non-zero entries', async (t) => {
  const text = formatReport({ model: 'm.json', samples: 200, validity: null, anyNewMeasure: 0.123456, sizeHistogram: [0, 0, 3, 0, 5], graph: { meanNodes: 4.5 } });
  t.equal(text, ['model            m.json', 'samples          200', 'validity         -', 'any new measure  0.1235', 'size histogram   2:3 4:5', 'graph', '  mean nodes     4.5', ''].join('\n'));
});

t.test('objects of scalars that share keys become the columns of one table', async (t) => {
  const text = formatReport({ atomTypes: { samples: { C: 20, O: 3 }, data: { C: 400, N: 7 }, totalVariation: 0.25 } });
  t.equal(text, ['atom types', '  total variation distance  0.25', '     samples  data', '  C       20   400', '  O        3     -', '  N        -     7', ''].join('\n'));
});

t.test('a list of objects is a table with a column per key; lists in it are joined', async (t) => {
  const text = formatReport({ kept: [{ types: ['C'], kept: 1 }, { types: ['C', 'O'], kept: 19 }] });
  t.equal(text, ['kept', '  types  kept', '  C         1', '  C, O     19', ''].join('\n'));
});

t.test('a long list wraps under the value column', async (t) => {
  const text = formatReport({ values: Array.from({ length: 40 }, (_, i) => i * 1000) });
  const lines = text.trimEnd().split('\n');
  t.ok(lines.length > 1, `${lines.length} lines`);
  t.ok(lines.every((l) => l.length <= 100), 'no line longer than 100 characters');
  t.ok(lines.slice(1).every((l) => l.startsWith(' '.repeat('values'.length + 2))), 'continued lines start under the values');
  t.equal(text.replace(/\s+/g, ' ').trim(), `values ${Array.from({ length: 40 }, (_, i) => i * 1000).join(', ')}`, 'nothing lost in the wrapping');
});
