import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { renderCurveSvg, type CurveSeries } from '../draw/svg';
import type { Family } from '../graphs/families';
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
  /** Share of VALIDITY_SAMPLES samples the family accepts; null without a family or when not measured. */
  readonly validity: number | null;
}

/** Samples drawn at each point to estimate validity (seeded, so points are comparable). */
export const VALIDITY_SAMPLES = 200;

/**
 * The training curve of a run folder: points appended to metrics.jsonl as training goes (a
 * resumed run continues the file and its clock), and drawn as training-curve.svg.
 */
export class TrainingCurve {
  private readonly points: CurvePoint[] = [];
  private lossSum = 0;
  private lossCount = 0;
  private readonly offset: number;

  constructor(
    private readonly metricsFile: string,
    private readonly family: Family | null,
    private readonly model: ModelConfig,
    private readonly vMax: number,
    resumed: boolean,
  ) {
    if (resumed && existsSync(metricsFile)) {
      for (const line of readFileSync(metricsFile, 'utf8').split('\n')) if (line.trim()) this.points.push(JSON.parse(line) as CurvePoint);
    } else writeFileAtomic(metricsFile, '');
    this.offset = this.points.length ? this.points[this.points.length - 1].seconds : 0;
  }

  /** Adds a step's loss; at `point` records a point, measuring validity too when `withValidity`. */
  step(loss: number, step: number, graphs: number, seconds: number, params: Readonly<Float32Array>, point: boolean, withValidity: boolean): void {
    this.lossSum += loss;
    this.lossCount++;
    if (!point) return;
    const validity = this.family && withValidity ? this.validity(params as Float32Array) : null;
    const p: CurvePoint = { step, seconds: +(this.offset + seconds).toFixed(2), graphs, loss: +(this.lossSum / this.lossCount).toFixed(4), validity };
    this.lossSum = 0;
    this.lossCount = 0;
    this.points.push(p);
    appendFileSync(this.metricsFile, `${JSON.stringify(p)}\n`);
  }

  private validity(params: Float32Array): number {
    const family = this.family as Family;
    const gs = sampleChunk(this.model, params, 0, 0, VALIDITY_SAMPLES, this.vMax);
    return gs.filter((g) => family.isValid(g)).length / gs.length;
  }

  /** The latest validity measured, if any. */
  lastValidity(): number | null {
    for (let i = this.points.length - 1; i >= 0; i--) if (this.points[i].validity !== null) return this.points[i].validity;
    return null;
  }

  writeSvg(file: string): void {
    const series: CurveSeries[] = [{ name: 'loss (NLL per graph)', points: this.points.map((p) => [p.seconds, p.loss]) }];
    if (this.family) series.push({ name: `validity (${VALIDITY_SAMPLES} samples)`, points: this.points.map((p) => [p.seconds, p.validity ?? NaN]), axis: 'right' });
    writeFileAtomic(file, renderCurveSvg(series, { title: 'Training curve', xLabel: 'seconds', yLabel: 'loss', y2Label: 'validity' }));
  }
}
