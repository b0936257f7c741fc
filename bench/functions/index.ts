/**
 * Registry of the benchmark functions: name -> factory options. `getBenchmark(name)` builds one;
 * `BENCHMARK_NAMES` lists them; `REFERENCE_300` holds the reference DEHB v0.1.2 means at 300
 * fevals (reference/dehb-algorithm.md §5.4) for comparison.
 */
import { mfBranin } from './branin.js';
import { countingOnes } from './counting-ones.js';
import { mfLevyMixed } from './levy.js';
import { mfHartmann, MFH_PRESETS, type MfhPreset } from './mf-hartmann.js';
import type { BenchFunction } from './types.js';

export type { BenchFunction, BenchEval } from './types.js';

/** Options a caller may override when building a benchmark (others are ignored where meaningless). */
export interface BenchOverrides {
  /** mfh*: lowest fidelity handed to DEHB (default 3). */
  minFidelity?: number;
  /** countingones: categorical / float counts (default 50 + 50). */
  nCat?: number;
  nCont?: number;
}

const FACTORIES: Record<string, (o: BenchOverrides) => BenchFunction> = {
  countingones: (o) => countingOnes({ nCat: o.nCat, nCont: o.nCont }),
  branin: () => mfBranin(),
  levy: () => mfLevyMixed(),
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

/** Reference DEHB v0.1.2, 5 seeds: mean ± std at 60 and 300 fevals (counting ones: mean / D, std raw). */
export const REFERENCE_300: Readonly<Record<string, { at60: [number, number]; at300: [number, number] }>> = {
  countingones: { at60: [-0.5756, 1.41], at300: [-0.6166, 1.9] },
  mfh3: { at60: [-2.861, 0.069], at300: [-3.741, 0.098] },
  mfh6: { at60: [-1.494, 0.248], at300: [-2.314, 0.262] },
};

/** Build the named benchmark; throws listing the valid names. */
export function getBenchmark(name: string, overrides: BenchOverrides = {}): BenchFunction {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new Error(`unknown benchmark "${name}"; valid: ${BENCHMARK_NAMES.join(', ')}`);
  }
  return factory(overrides);
}

/** Every benchmark with its default settings, by name. */
export const BENCHMARKS: Readonly<Record<string, BenchFunction>> = Object.fromEntries(
  BENCHMARK_NAMES.map((n) => [n, getBenchmark(n)]),
);
