import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { renderCurveSvg, type CurveSeries } from '../draw/svg';
import type { Graph } from '../graphs/graph';
import type { ModelConfig } from '../model/params';
import { writeFileAtomic } from './checkpoint';
import { sampleChunk } from './sampling';

/** One point of the training curve. */
export interface CurvePoint {
  readonly step: number;
  readonly seconds: number;
  readonly graphs: number;
  /** Mean loss (NLL per graph) of the steps since the previous point. */
  readonly loss: number;
  /** Share of VALIDITY_SAMPLES samples the run's ValidityTest accepts; null without a test or when not measured. */
  readonly validity: number | null;
}

/** Samples drawn at each point to estimate validity (seeded, so points are comparable). */
export const VALIDITY_SAMPLES = 200;

/** Whether a sampled graph is valid: a family's predicate, or for molecules whether RDKit sanitizes it. */
export type ValidityTest = (g: Graph) => boolean;

/**
 * The training curve of a run folder: points appended to metrics.jsonl as training goes (a
 * resumed run continues the file and its clock), and drawn as training-curve.svg.
 */
export class TrainingCurve {
  private readonly points: CurvePoint[];
  private lossSum = 0;
  private lossCount = 0;
  private readonly offset: number;

  constructor(
    private readonly metricsFile: string,
    private readonly isValid: ValidityTest | null,
    private readonly model: ModelConfig,
    private readonly vMax: number,
    /** The step of the checkpoint a resumed run starts from; null for a fresh run. */
    resumedAt: number | null,
  ) {
    if (resumedAt !== null && existsSync(metricsFile)) this.points = resumedPoints(metricsFile, resumedAt);
    else {
      this.points = [];
      writeFileAtomic(metricsFile, '');
    }
    this.offset = this.points.length ? this.points[this.points.length - 1].seconds : 0;
  }

  /** Adds a step's loss; at `point` records a point, measuring validity too when `withValidity`. */
  step(loss: number, step: number, graphs: number, seconds: number, params: Readonly<Float32Array>, point: boolean, withValidity: boolean): void {
    this.lossSum += loss;
    this.lossCount++;
    if (!point) return;
    const validity = this.isValid && withValidity ? this.validity(this.isValid, params as Float32Array) : null;
    const p: CurvePoint = { step, seconds: +(this.offset + seconds).toFixed(2), graphs, loss: +(this.lossSum / this.lossCount).toFixed(4), validity };
    this.lossSum = 0;
    this.lossCount = 0;
    this.points.push(p);
    appendFileSync(this.metricsFile, `${JSON.stringify(p)}\n`);
  }

  private validity(isValid: ValidityTest, params: Float32Array): number {
    const gs = sampleChunk(this.model, params, 0, 0, VALIDITY_SAMPLES, this.vMax);
    return gs.filter(isValid).length / gs.length;
  }

  /** The latest validity measured, if any. */
  lastValidity(): number | null {
    for (let i = this.points.length - 1; i >= 0; i--) if (this.points[i].validity !== null) return this.points[i].validity;
    return null;
  }

  writeSvg(file: string): void {
    const series: CurveSeries[] = [{ name: 'loss (NLL per graph)', points: this.points.map((p) => [p.seconds, p.loss]) }];
    if (this.isValid) series.push({ name: `validity (${VALIDITY_SAMPLES} samples)`, points: this.points.map((p) => [p.seconds, p.validity ?? NaN]), axis: 'right' });
    writeFileAtomic(file, renderCurveSvg(series, { title: 'Training curve', xLabel: 'seconds', yLabel: 'loss', y2Label: 'validity' }));
  }
}

/** Whether `x` has a CurvePoint's fields. */
function isCurvePoint(x: unknown): x is CurvePoint {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  return typeof p.step === 'number' && typeof p.seconds === 'number' && typeof p.graphs === 'number' && typeof p.loss === 'number' && (typeof p.validity === 'number' || p.validity === null);
}

/**
 * The points of a metrics.jsonl that a resumed run continues from the checkpoint of step
 * `resumedAt`. Points past that step belong to steps the run will train again (the process died
 * after them but before their checkpoint): they are dropped, so each step appears once. A crash or
 * a full disk in the middle of an append leaves a torn last line: it is dropped too. The file is
 * then rewritten (whole or not at all) to hold exactly the points kept, so the next append starts
 * a line of its own. A bad line before the last is no torn append but damage, and is refused,
 * naming the line.
 */
function resumedPoints(file: string, resumedAt: number): CurvePoint[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the training curve: ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  let end = lines.length;
  while (end > 0 && lines[end - 1].trim() === '') end--;
  const points: CurvePoint[] = [];
  for (let i = 0; i < end; i++) {
    if (lines[i].trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(lines[i]);
    } catch (e) {
      if (i === end - 1) break; // the torn last append
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message}); only a torn last line is dropped on resume, this is damage to the training curve`);
    }
    if (!isCurvePoint(json)) throw new Error(`${file}:${i + 1}: not a training-curve point (needs the numbers step, seconds, graphs and loss, and validity a number or null)`);
    if (json.step <= resumedAt) points.push(json);
  }
  const kept = points.map((p) => `${JSON.stringify(p)}\n`).join('');
  if (kept !== text) writeFileAtomic(file, kept, 'training curve');
  return points;
}
