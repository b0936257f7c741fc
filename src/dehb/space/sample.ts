/**
 * Owns random sampling in a space: uniform unit-cube vectors (what DE's repairs draw), and space
 * samples (what DEHB's populations start from and random search proposes), which follow the
 * categorical weights and truncated normal priors of the space. Every coordinate costs exactly
 * one uniform draw, so a space without weights or priors samples exactly as a uniform vector.
 */
import { uniform } from '../rng.js';
import type { Config, RngState, SpaceSpec } from '../types.js';
import { compileSpace, type CompiledParam } from './compile.js';
import { decode } from './decode.js';
import { normalCdf, normalQuantile } from './normal.js';

/** A uniform vector in [0, 1)^dim. */
export function sampleVector(rng: RngState, dim: number): number[] {
  const v = new Array<number>(dim);
  for (let i = 0; i < dim; i++) v[i] = uniform(rng);
  return v;
}

/** Maps a uniform draw u to the coordinate of a sample from p's weights or prior (u itself if none). */
export function priorCoordinate(p: CompiledParam, u: number): number {
  const spec = p.spec;
  if (spec.type === 'categorical' && spec.weights !== undefined) {
    const w = spec.weights;
    const total = w.reduce((a, b) => a + b, 0);
    let acc = 0;
    let last = 0;
    for (let k = 0; k < w.length; k++) {
      if (w[k] === 0) continue;
      last = k;
      const next = acc + w[k] / total;
      // the bin of choice k, entered at the same relative position as u inside [acc, next)
      if (u < next) return (k + Math.min((u - acc) / (next - acc), 1 - 1e-12)) / w.length;
      acc = next;
    }
    return (last + 0.5) / w.length; // u at the very top (rounding): the last choice with weight
  }
  if ((spec.type === 'float' || spec.type === 'int') && spec.prior !== undefined) {
    const { mu, sigma } = spec.prior;
    const lo = p.log ? p.logLow : p.low;
    const hi = p.log ? p.logLow + p.logSpan : p.high;
    const a = normalCdf((lo - mu) / sigma);
    const b = normalCdf((hi - mu) / sigma);
    const x = b - a > 1e-12 ? mu + sigma * normalQuantile(a + u * (b - a)) : lo + u * (hi - lo);
    const c = (x - lo) / (hi - lo);
    return c < 0 ? 0 : c >= 1 ? 1 - 1e-12 : c;
  }
  return u;
}

/** A sample of the space as a unit-cube vector (weights and priors followed). */
export function sampleSpaceVector(space: SpaceSpec, rng: RngState): number[] {
  const { params } = compileSpace(space);
  const v = new Array<number>(params.length);
  for (let i = 0; i < params.length; i++) v[i] = priorCoordinate(params[i], uniform(rng));
  return v;
}

/** A random configuration (a space sample, then decoded) and its vector. */
export function sampleConfig(space: SpaceSpec, rng: RngState): { vector: number[]; config: Config } {
  const vector = sampleSpaceVector(space, rng);
  return { vector, config: decode(space, vector) };
}
