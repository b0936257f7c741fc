/**
 * Owns vector -> configuration decoding: unit-cube coordinates become parameter values
 * (linear/log floats, half-to-even rounded ints, bin-indexed choices, constants), and inactive
 * conditional parameters are left out of the result.
 */
import type { Config, SpaceSpec } from '../types.js';
import { compileSpace, isActive, roundHalfEven, type CompiledParam, type CompiledSpace, type Value } from './compile.js';

/** The value of one parameter for unit-cube coordinate v. */
export function decodeValue(p: CompiledParam, v: number): Value {
  switch (p.kind) {
    case 'float':
    case 'int': {
      if (v <= 0) return p.low;
      if (v >= 1) return p.high;
      let x = p.log ? Math.exp(p.logLow + v * p.logSpan) : p.low + (p.high - p.low) * v;
      if (p.kind === 'int') x = roundHalfEven(x);
      if (x < p.low) x = p.low;
      if (x > p.high) x = p.high;
      return x;
    }
    case 'categorical':
    case 'ordinal': {
      const n = p.items.length;
      let k = Math.floor(v * n);
      if (!(k >= 0)) k = 0;
      if (k > n - 1) k = n - 1;
      return p.items[k];
    }
    default:
      return p.items[0];
  }
}

/** Values by parameter index of a unit-cube vector (undefined: inactive). */
export function decodeValues(cs: CompiledSpace, vector: readonly number[]): Array<Value | undefined> {
  const { params } = cs;
  if (vector.length !== params.length) {
    throw new RangeError(`vector has ${vector.length} coordinates, the space has ${params.length} parameters`);
  }
  const values: Array<Value | undefined> = new Array(params.length);
  if (!cs.hasConditions) {
    for (let i = 0; i < params.length; i++) values[i] = decodeValue(params[i], vector[i]);
    return values;
  }
  for (const i of cs.order) {
    const p = params[i];
    if (isActive(p, values)) values[i] = decodeValue(p, vector[i]);
  }
  return values;
}

/** Decodes a unit-cube vector; inactive conditional parameters are absent. */
export function decode(space: SpaceSpec, vector: readonly number[]): Config {
  const cs = compileSpace(space);
  const { params } = cs;
  const values = decodeValues(cs, vector);
  const out: Config = {};
  for (let i = 0; i < params.length; i++) {
    const v = values[i];
    if (v !== undefined) out[params[i].name] = v;
  }
  return out;
}
