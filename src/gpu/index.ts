/**
 * Public surface of the GPU layer: discovery, the pure chooser, the allocator and the child env.
 */
export type { GpuDevice, GpuDeviceLoad } from './types.js';
export {
  NVIDIA_SMI_ARGS,
  NVIDIA_SMI_FIELDS,
  DEFAULT_NVIDIA_SMI_TIMEOUT_MS,
  parseNvidiaSmiCsv,
  queryNvidiaSmi,
  type NvidiaSmiRow,
  type NvidiaSmiResult,
  type QueryNvidiaSmiOptions,
} from './nvidia-smi.js';
export {
  deviceFromToken,
  discoverGpuPool,
  discoverGpus,
  enrichDevices,
  isGpuToken,
  matchRow,
  parseCudaVisibleDevices,
  parseGpuList,
  resolveGpuPool,
  type DiscoverGpusOptions,
  type GpuListSpec,
  type GpuPool,
  type GpuPoolSource,
} from './discover.js';
export { chooseDevices } from './choose.js';
export {
  GpuAllocator,
  type DeviceAllocator,
  type GpuAllocationSnapshot,
  type GpuAllocatorOptions,
} from './allocator.js';
export { gpuEnv } from './env.js';
