/**
 * Public surface of the GPU layer: discovery, the pure chooser and the allocator. A pinned child's
 * CUDA_VISIBLE_DEVICES / CUDA_DEVICE_ORDER are set by the command runner (cluster/command-env.ts).
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
