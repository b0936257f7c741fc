/**
 * Owns the typed space builder: `param.float(...)`, `param.int(...)`, `param.categorical(...)`,
 * `param.ordinal(...)`, `param.constant(...)` return plain specs (conditions of every kind:
 * `{ parent, in|eq|neq|lt|gt }`, `{ all }`, `{ any }`), `defineSpace()` validates a whole space
 * (optionally with forbidden clauses) and returns it typed, and `ConfigOf<S>` infers the
 * configuration type.
 */
import type {
  CategoricalParamSpec,
  ConditionSpec,
  ConstantParamSpec,
  FloatParamSpec,
  ForbiddenSpec,
  IntParamSpec,
  OrdinalParamSpec,
  ParamSpec,
  SpaceSpec,
} from '../types.js';
import { parseSpace } from './parse-space.js';

type Scalar = string | number | boolean;

export interface NumericParamOptions {
  log?: boolean;
  condition?: ConditionSpec;
  default?: number;
}
export interface ChoiceParamOptions<T extends Scalar> {
  condition?: ConditionSpec;
  default?: T;
}

function withOpts<S extends ParamSpec>(spec: S, opts: { condition?: ConditionSpec; default?: Scalar; log?: boolean } | undefined): S {
  if (opts === undefined) return spec;
  const out = spec as S & { log?: boolean };
  if (opts.log !== undefined) out.log = opts.log;
  if (opts.default !== undefined) out.default = opts.default;
  if (opts.condition !== undefined) out.condition = structuredClone(opts.condition);
  return spec;
}

/** Adds `{ condition: ConditionSpec }` to the spec type when the options carry a condition. */
type WithCond<S, O> = O extends { condition: ConditionSpec } ? S & { condition: ConditionSpec } : S;

export const param = {
  float<const O extends NumericParamOptions = {}>(low: number, high: number, opts?: O): WithCond<FloatParamSpec, O> {
    return withOpts<FloatParamSpec>({ type: 'float', low, high }, opts) as WithCond<FloatParamSpec, O>;
  },
  int<const O extends NumericParamOptions = {}>(low: number, high: number, opts?: O): WithCond<IntParamSpec, O> {
    return withOpts<IntParamSpec>({ type: 'int', low, high }, opts) as WithCond<IntParamSpec, O>;
  },
  categorical<const T extends Scalar, const O extends ChoiceParamOptions<T> = {}>(
    choices: readonly T[],
    opts?: O,
  ): WithCond<CategoricalParamSpec & { choices: T[] }, O> {
    return withOpts({ type: 'categorical' as const, choices: choices.slice() }, opts) as WithCond<
      CategoricalParamSpec & { choices: T[] },
      O
    >;
  },
  ordinal<const T extends Scalar, const O extends ChoiceParamOptions<T> = {}>(
    values: readonly T[],
    opts?: O,
  ): WithCond<OrdinalParamSpec & { values: T[] }, O> {
    return withOpts({ type: 'ordinal' as const, values: values.slice() }, opts) as WithCond<OrdinalParamSpec & { values: T[] }, O>;
  },
  constant<const T extends Scalar, const O extends { condition?: ConditionSpec } = {}>(
    value: T,
    opts?: O,
  ): WithCond<ConstantParamSpec & { value: T }, O> {
    return withOpts({ type: 'constant' as const, value }, opts) as WithCond<ConstantParamSpec & { value: T }, O>;
  },
};

/** The value type of one parameter spec. */
export type ValueOf<P> = P extends { type: 'float' | 'int' }
  ? number
  : P extends { choices: Array<infer T> }
    ? T
    : P extends { values: Array<infer T> }
      ? T
      : P extends { value: infer T }
        ? T
        : never;

type Conditional<S> = { [K in keyof S]: S[K] extends { condition: ConditionSpec } ? K : never }[keyof S];

/** The configuration type of a space built with `param.*`: conditional parameters are optional. */
export type ConfigOf<S extends SpaceSpec> = { [K in Exclude<keyof S, Conditional<S>>]: ValueOf<S[K]> } & {
  [K in Conditional<S>]?: ValueOf<S[K]>;
};

/**
 * Validates a space (throws DehbError E_SPACE naming the parameter) and returns it unchanged, or,
 * with forbidden clauses, a validated copy that carries them.
 */
export function defineSpace<const S extends SpaceSpec>(spec: S, opts?: { forbidden?: ForbiddenSpec[] }): S {
  if (opts?.forbidden === undefined) {
    parseSpace(spec);
    return spec;
  }
  return parseSpace({ parameters: spec, forbidden: opts.forbidden }) as S;
}
