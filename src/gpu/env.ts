/**
 * Owns the environment that pins an evaluation process to its devices. Pure: callers spread it
 * into a child's `env` ({...process.env, ...gpuEnv(tokens)}); nobody mutates process.env.
 */

/**
 * CUDA_VISIBLE_DEVICES for the given tokens (first = CUDA ordinal 0 in the child) and
 * CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA ordinals follow nvidia-smi's index order.
 * An empty list yields CUDA_VISIBLE_DEVICES='' — the child sees no GPU at all.
 */
export function gpuEnv(tokens: readonly string[]): Record<string, string> {
  return {
    CUDA_VISIBLE_DEVICES: tokens.join(','),
    CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
  };
}
