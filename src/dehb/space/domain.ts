/**
 * Owns the domain of one parameter spec: whether a value lies in it and how to describe it in an
 * error message.
 */
import type { ParamSpec, SpaceValue } from '../types.js';

/** Whether `value` lies in the domain of `spec`. */
export function inDomain(spec: ParamSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'float':
      return typeof value === 'number' && value >= spec.low && value <= spec.high;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= spec.low && value <= spec.high;
    case 'categorical':
      return spec.choices.includes(value as SpaceValue);
    case 'ordinal':
      return spec.values.includes(value as SpaceValue);
    default:
      return spec.value === value;
  }
}

export function describeDomain(spec: ParamSpec): string {
  switch (spec.type) {
    case 'float':
      return `a number in [${spec.low}, ${spec.high}]`;
    case 'int':
      return `an integer in [${spec.low}, ${spec.high}]`;
    case 'categorical':
      return `one of ${JSON.stringify(spec.choices)}`;
    case 'ordinal':
      return `one of ${JSON.stringify(spec.values)}`;
    default:
      return `the constant ${JSON.stringify(spec.value)}`;
  }
}
