/**
 * Owns configuration -> vector encoding: the inverse of decode. Choices encode to bin centres
 * (k+0.5)/n, constants to 0.5, floats/ints linearly or logarithmically. Parameters that are
 * inactive (or absent) are imputed with their default (spec.default, else the unit-cube midpoint
 * for numbers, the first choice for categorical/ordinal).
 */
import { DehbError } from '../../errors.js';
import type { Config, SpaceSpec } from '../types.js';
import { compileSpace, isActive, type CompiledParam, type Value } from './compile.js';

/** Unit-cube coordinate of one value; throws E_SPACE when the value is not in the domain. */
export function encodeValue(p: CompiledParam, value: Value): number {
  switch (p.kind) {
    case 'float':
    case 'int': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new DehbError('E_SPACE', `parameter '${p.name}': expected a finite number (got ${JSON.stringify(value)})`, {
          details: { param: p.name },
        });
      }
      const u = p.log ? (Math.log(value) - p.logLow) / p.logSpan : (value - p.low) / (p.high - p.low);
      return u < 0 ? 0 : u > 1 ? 1 : u === 0 ? 0 : u;
    }
    case 'categorical':
    case 'ordinal': {
      const k = p.items.indexOf(value);
      if (k < 0) {
        throw new DehbError(
          'E_SPACE',
          `parameter '${p.name}': ${JSON.stringify(value)} is not one of ${JSON.stringify(p.items)}`,
          { details: { param: p.name } },
        );
      }
      return (k + 0.5) / p.items.length;
    }
    default:
      return 0.5;
  }
}

/** The coordinate used for an inactive or absent parameter. */
export function defaultCoordinate(p: CompiledParam): number {
  const d = p.spec.default;
  if (d !== undefined) return encodeValue(p, d);
  if (p.kind === 'categorical' || p.kind === 'ordinal') return 0.5 / p.items.length;
  return 0.5;
}

/** Encodes a configuration into the unit cube, in the space's key order. */
export function encode(space: SpaceSpec, config: Readonly<Record<string, unknown>>): number[] {
  const cs = compileSpace(space);
  const { params } = cs;
  const out = new Array<number>(params.length).fill(0);
  const values = new Array<Value | undefined>(params.length);
  for (const i of cs.order) {
    const p = params[i];
    const raw = Object.prototype.hasOwnProperty.call(config, p.name) ? config[p.name] : undefined;
    const active = raw !== undefined && isActive(p, values);
    if (active) values[i] = raw as Value;
    out[i] = active ? encodeValue(p, raw as Value) : defaultCoordinate(p);
  }
  return out;
}
