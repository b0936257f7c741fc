/**
 * Registry of the benchmark functions: name -> factory options. `getBenchmark(name)` builds one;
 * `BENCHMARK_NAMES` lists them; `REFERENCE_V012` holds the reference DEHB v0.1.2 table at 300
 * fevals (reference/dehb-algorithm.md §5.4) for comparison.
 */
import { DehbError } from '../../src/errors.js';
import { mfBranin } from './branin.js';
import { countingOnes } from './counting-ones.js';
import { mfLevyMixed } from './levy.js';
import { mfHartmann, MFH_PRESETS, type MfhPreset } from './mf-hartmann.js';
import { mixed12 } from './mixed12.js';
import type { BenchFunction } from './types.js';

export type { BenchFunction, BenchEval } from './types.js';

/** Options a caller may override when building a benchmark (others are ignored where meaningless). */
export interface BenchOverrides {
  /** mfh*: lowest fidelity handed to DEHB (default 1). */
  minFidelity?: number;
  /** countingones: categorical / float counts (default 50 + 50). */
  nCat?: number;
  nCont?: number;
}

const FACTORIES: Record<string, (o: BenchOverrides) => BenchFunction> = {
  countingones: (o) => countingOnes({ nCat: o.nCat, nCont: o.nCont }),
  branin: () => mfBranin(),
  levy: () => mfLevyMixed(),
  mixed12: () => mixed12(),
};
for (const dims of [3, 6] as const) {
  for (const preset of Object.keys(MFH_PRESETS) as MfhPreset[]) {
    const name = preset === 'default' ? `mfh${dims}` : `mfh${dims}_${preset}`;
    FACTORIES[name] = (o) => mfHartmann({ dims, preset, minFidelity: o.minFidelity });
  }
}

export const BENCHMARK_NAMES: readonly string[] = Object.keys(FACTORIES);

/** The three benchmarks the reference reports (what `--benchmark all` runs by default). */
export const REFERENCE_BENCHMARKS: readonly string[] = ['mfh3', 'mfh6', 'countingones'];

/**
 * Reference DEHB v0.1.2 (5 seeds, 300 fevals; benchmarking/results/benchmark_results.md): mean ± std
 * of the incumbent at evaluations 60/120/180/240/300 (counting ones: mean / D, std raw).
 */
export const REFERENCE_V012: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>> = {
  countingones: [[-0.5756, 1.409], [-0.585, 1.115], [-0.5981, 0.309], [-0.6158, 1.976], [-0.6165, 1.9]],
  mfh3: [[-2.861, 0.06878], [-3.506, 0.07627], [-3.722, 0.0869], [-3.741, 0.09849], [-3.741, 0.09849]],
  mfh6: [[-1.494, 0.2482], [-1.869, 0.2609], [-2.175, 0.2059], [-2.314, 0.2622], [-2.314, 0.2622]],
};

/** Build the named benchmark; throws listing the valid names. */
export function getBenchmark(name: string, overrides: BenchOverrides = {}): BenchFunction {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new DehbError('E_USAGE', `unknown benchmark "${name}"; valid: ${BENCHMARK_NAMES.join(', ')}`);
  }
  return factory(overrides);
}

/** Every benchmark with its default settings, by name. */
export const BENCHMARKS: Readonly<Record<string, BenchFunction>> = Object.fromEntries(
  BENCHMARK_NAMES.map((n) => [n, getBenchmark(n)]),
);
