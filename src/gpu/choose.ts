/**
 * Owns the choice of devices for one evaluation: a pure function of the pool's current load.
 * Order: fewest active evaluations, then lower utilisation, then lower memory in use, then earlier
 * position in the pool (which is index order for pools found by nvidia-smi). Unknown stats rank
 * after known ones, so they only matter between devices with the same number of evaluations.
 */
import { DehbError } from '../errors.js';
import type { GpuDeviceLoad } from './types.js';

/** Compares two devices by load; negative when `a` should be chosen first. Ties broken by position. */
function compareLoad(a: GpuDeviceLoad, ai: number, b: GpuDeviceLoad, bi: number): number {
  return (
    a.active - b.active ||
    statKey(a.utilizationPct) - statKey(b.utilizationPct) ||
    statKey(a.memoryUsedMiB) - statKey(b.memoryUsedMiB) ||
    ai - bi
  );
}

function statKey(v: number | undefined): number {
  return v === undefined || !Number.isFinite(v) ? Number.MAX_VALUE : v;
}

/**
 * Returns `n` distinct device tokens, least loaded first (the first is the evaluation's primary
 * device, CUDA ordinal 0 in the child). Does not modify its input.
 * @throws DehbError E_CONFIG when n is not a non-negative integer; E_NO_GPU when n > devices.length.
 */
export function chooseDevices(devices: readonly GpuDeviceLoad[], n: number): string[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new DehbError('E_CONFIG', `number of GPUs per trial must be a non-negative integer (got ${n})`);
  }
  if (n === 0) return [];
  if (n > devices.length) {
    const pool = devices.length === 0 ? 'the GPU pool is empty' : `the pool has only ${devices.length} (${devices.map((d) => d.token).join(', ')})`;
    throw new DehbError(
      'E_NO_GPU',
      `a trial needs ${n} GPU${n === 1 ? '' : 's'} but ${pool}: lower gpusPerTrial or make more devices visible (CUDA_VISIBLE_DEVICES / --gpus)`,
      { details: { requested: n, available: devices.length } },
    );
  }
  return devices
    .map((device, position) => ({ device, position }))
    .sort((a, b) => compareLoad(a.device, a.position, b.device, b.position))
    .slice(0, n)
    .map(({ device }) => device.token);
}
