/**
 * Owns the `dehb gpus` command: prints the GPU pool this process would use (inherited
 * CUDA_VISIBLE_DEVICES, else nvidia-smi) with stats. Human text goes to stderr, `--json` to stdout.
 */
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import { resolveGpuPool, type DiscoverGpusOptions, type GpuPool } from '../../gpu/discover.js';
import type { GpuDevice } from '../../gpu/types.js';

export interface GpusCommandIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env?: NodeJS.ProcessEnv;
}

interface GpusCommandFlags {
  json?: boolean;
  gpus: string;
  nvidiaSmi?: string;
  timeout?: string;
  tokens: 'index' | 'uuid';
}

/** Adds `dehb gpus` to the program. `io` is for tests; it defaults to the process streams and env. */
export function registerGpusCommand(program: Command, io?: GpusCommandIo): Command {
  return program
    .command('gpus')
    .description('list the GPUs evaluations would be pinned to (CUDA_VISIBLE_DEVICES, else nvidia-smi)')
    .option('--json', 'print the pool as JSON on stdout')
    .option('--gpus <spec>', 'auto, none, or a comma-separated list of indexes / GPU- UUIDs', 'auto')
    .option('--nvidia-smi <path>', 'nvidia-smi binary to query (default: nvidia-smi on PATH)')
    .option('--timeout <ms>', 'limit for the nvidia-smi call in ms (default 30000)')
    .option('--tokens <kind>', 'token for devices found by nvidia-smi: index or uuid', 'index')
    .action(async (flags: GpusCommandFlags) => {
      const out = io ?? { stdout: process.stdout, stderr: process.stderr };
      const opts: DiscoverGpusOptions = { env: io?.env ?? process.env };
      if (flags.nvidiaSmi !== undefined) opts.nvidiaSmi = flags.nvidiaSmi;
      if (flags.timeout !== undefined) {
        const ms = Number(flags.timeout);
        if (!Number.isInteger(ms) || ms <= 0) {
          throw new DehbError('E_USAGE', `--timeout must be a positive integer number of ms (got ${flags.timeout})`);
        }
        opts.timeoutMs = ms;
      }
      if (flags.tokens !== 'index' && flags.tokens !== 'uuid') {
        throw new DehbError('E_USAGE', `--tokens must be index or uuid (got ${String(flags.tokens)})`);
      }
      opts.tokenKind = flags.tokens;
      const pool = await resolveGpuPool(flags.gpus, opts);
      if (flags.json === true) out.stdout.write(`${JSON.stringify(pool)}\n`);
      else out.stderr.write(formatGpuPool(pool));
    });
}

/** Human-readable listing of a pool, one device per line, then notes. */
export function formatGpuPool(pool: GpuPool): string {
  const lines: string[] = [];
  const count = pool.devices.length;
  if (count === 0) lines.push(`no GPUs found (source: ${pool.source})`);
  else lines.push(`${count} GPU${count === 1 ? '' : 's'} (source: ${pool.source}); CUDA_VISIBLE_DEVICES tokens:`);
  for (const d of pool.devices) lines.push(`  ${formatDevice(d)}`);
  for (const note of pool.notes) lines.push(`note: ${note}`);
  if (count === 0) lines.push('hint: set CUDA_VISIBLE_DEVICES, install nvidia-smi, or pass --gpus 0,1');
  return `${lines.join('\n')}\n`;
}

function formatDevice(d: GpuDevice): string {
  const parts = [d.token];
  if (d.index !== null && String(d.index) !== d.token) parts.push(`index ${d.index}`);
  if (d.uuid !== null && d.uuid !== d.token) parts.push(d.uuid);
  if (d.name !== undefined) parts.push(d.name);
  if (d.utilizationPct !== undefined) parts.push(`util ${d.utilizationPct}%`);
  if (d.memoryUsedMiB !== undefined || d.memoryTotalMiB !== undefined) {
    parts.push(`mem ${d.memoryUsedMiB ?? '?'}/${d.memoryTotalMiB ?? '?'} MiB`);
  }
  return parts.join('  ');
}
