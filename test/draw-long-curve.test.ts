import t from 'tap';
import { renderCurveSvg } from '../draw/svg';

// A long run's training curve has more points than a call takes arguments: Math.min(...points)
// overflowed the stack at about 120,000 of them.
t.test('a curve of 300,000 points is drawn with its axes', async (t) => {
  const points = Array.from({ length: 300_000 }, (_, i): [number, number] => [i, 10 / (1 + i)]);
  const svg = renderCurveSvg([{ name: 'loss', points }], { title: 'long run', xLabel: 'steps', yLabel: 'loss' });
  t.match(svg, /^<svg[\s\S]*<polyline[\s\S]*<\/svg>\s*$/);
  t.match(svg, />300000</, 'the x axis reaches the last point');
});
