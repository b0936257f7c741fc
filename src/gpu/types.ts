/**
 * Owns the plain data types of the GPU layer: a device of the pool (identified by the token that
 * goes into CUDA_VISIBLE_DEVICES) and a device together with its current load.
 */

/** One device of the pool. Plain JSON. */
export interface GpuDevice {
  /** What goes into CUDA_VISIBLE_DEVICES for this device: an index or a `GPU-…`/`MIG-…` UUID, as given. */
  token: string;
  /** nvidia-smi index (PCI bus order), when known. */
  index: number | null;
  /** `GPU-…` or `MIG-…` UUID, when known. */
  uuid: string | null;
  /** Product name, e.g. `NVIDIA H100 80GB HBM3`. */
  name?: string;
  /** Memory in use in MiB, from the last nvidia-smi query. */
  memoryUsedMiB?: number;
  /** Total memory in MiB. */
  memoryTotalMiB?: number;
  /** GPU utilisation in percent (0–100), from the last nvidia-smi query. */
  utilizationPct?: number;
}

/** A device and the number of evaluations this process currently runs on it. */
export interface GpuDeviceLoad extends GpuDevice {
  /** Evaluations currently holding this device (allocated by this process). */
  active: number;
}
