/**
 * Owns GPU discovery: which devices this process may hand to evaluations.
 *
 * Order: an inherited CUDA_VISIBLE_DEVICES (as SLURM sets it) is the pool, tokens kept as given
 * (indexes or `GPU-…`/`MIG-…` UUIDs; empty, `-1` or `NoDevFiles` means none); otherwise nvidia-smi
 * is queried asynchronously; otherwise there are no GPUs. When both exist, the inherited tokens are
 * enriched with nvidia-smi's stats (matched by index or UUID prefix). Also parses `--gpus` flags.
 *
 * Why not systeminformation: `si.graphics()` has no `index` and no `uuid` (so its rows cannot be
 * mapped to CUDA_VISIBLE_DEVICES), it calls nvidia-smi with execFileSync (blocks the event loop),
 * and it returns no controllers at all when `lspci` is missing (common on HPC/container images).
 */
import { DehbError } from '../errors.js';
import { queryNvidiaSmi, type NvidiaSmiRow } from './nvidia-smi.js';
import type { GpuDevice } from './types.js';

export interface DiscoverGpusOptions {
  /** Environment to read CUDA_VISIBLE_DEVICES and PATH from. Default: process.env (never modified). */
  env?: NodeJS.ProcessEnv;
  /** nvidia-smi binary name or path. Default `nvidia-smi` on PATH. */
  nvidiaSmi?: string;
  /** Limit for the nvidia-smi call in ms. Default 30 000 (first calls can take seconds per GPU). */
  timeoutMs?: number;
  /**
   * Token for devices found by nvidia-smi (an inherited CUDA_VISIBLE_DEVICES is always kept as
   * given). `index` (default) pairs with CUDA_DEVICE_ORDER=PCI_BUS_ID, which a pinned child gets
   * (cluster/command-env.ts);
   * `uuid` is stable across reboots and device orderings.
   */
  tokenKind?: 'index' | 'uuid';
}

export type GpuPoolSource = 'CUDA_VISIBLE_DEVICES' | 'nvidia-smi' | '--gpus' | 'none';

/** Discovery result with where it came from and human-readable notes (why none, what was ignored). */
export interface GpuPool {
  source: GpuPoolSource;
  devices: GpuDevice[];
  notes: string[];
}

/** `--gpus` flag values. */
export type GpuListSpec = { kind: 'auto' } | { kind: 'none' } | { kind: 'list'; tokens: string[] };

const INDEX_RE = /^\d+$/;
const UUID_RE = /^(GPU|MIG)-\S+$/i;

/** True for a token CUDA_VISIBLE_DEVICES accepts: a non-negative index or a `GPU-…`/`MIG-…` UUID. */
export function isGpuToken(token: string): boolean {
  return INDEX_RE.test(token) || UUID_RE.test(token);
}

/**
 * Parses an inherited CUDA_VISIBLE_DEVICES. Returns null when unset. Like CUDA, the first entry
 * that is not a device (e.g. `-1`) hides itself and every entry after it; duplicates are dropped.
 */
export function parseCudaVisibleDevices(value: string | undefined): { tokens: string[]; notes: string[] } | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return { tokens: [], notes: ['CUDA_VISIBLE_DEVICES is set but empty: no devices'] };
  if (trimmed === 'NoDevFiles') return { tokens: [], notes: ['CUDA_VISIBLE_DEVICES=NoDevFiles: no devices'] };
  const tokens: string[] = [];
  const notes: string[] = [];
  for (const raw of trimmed.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    if (!isGpuToken(token)) {
      notes.push(`CUDA_VISIBLE_DEVICES entry "${token}" is not a device: it and every entry after it are ignored (as CUDA does)`);
      break;
    }
    if (tokens.includes(token)) {
      notes.push(`CUDA_VISIBLE_DEVICES lists "${token}" twice: used once`);
      continue;
    }
    tokens.push(token);
  }
  if (tokens.length === 0 && notes.length === 0) notes.push('CUDA_VISIBLE_DEVICES lists no devices');
  return { tokens, notes };
}

/** A device known only by its token. */
export function deviceFromToken(token: string): GpuDevice {
  return {
    token,
    index: INDEX_RE.test(token) ? Number(token) : null,
    uuid: UUID_RE.test(token) ? token : null,
  };
}

/** The nvidia-smi row an inherited token names: same index, or the only GPU whose UUID starts with it. */
export function matchRow(device: GpuDevice, rows: readonly NvidiaSmiRow[]): NvidiaSmiRow | undefined {
  if (device.index !== null) return rows.find((r) => r.index === device.index);
  const token = device.token.toLowerCase();
  if (!token.startsWith('gpu-')) return undefined; // MIG instances: nvidia-smi --query-gpu lists parents only
  const hits = rows.filter((r) => r.uuid !== null && r.uuid.toLowerCase().startsWith(token));
  return hits.length === 1 ? hits[0] : undefined;
}

/** Copies stats (and the missing index/uuid) from matching nvidia-smi rows; tokens are never changed. */
export function enrichDevices(devices: readonly GpuDevice[], rows: readonly NvidiaSmiRow[]): GpuDevice[] {
  return devices.map((device) => {
    const row = matchRow(device, rows);
    if (row === undefined) return { ...device };
    const out: GpuDevice = {
      token: device.token,
      index: device.index ?? row.index,
      uuid: row.uuid ?? device.uuid,
    };
    const name = row.name ?? device.name;
    if (name !== undefined) out.name = name;
    if (row.memoryUsedMiB !== undefined) out.memoryUsedMiB = row.memoryUsedMiB;
    if (row.memoryTotalMiB !== undefined) out.memoryTotalMiB = row.memoryTotalMiB;
    if (row.utilizationPct !== undefined) out.utilizationPct = row.utilizationPct;
    return out;
  });
}

function deviceFromRow(row: NvidiaSmiRow, tokenKind: 'index' | 'uuid'): GpuDevice | undefined {
  const token =
    tokenKind === 'uuid' && row.uuid !== null
      ? row.uuid
      : row.index !== null
        ? String(row.index)
        : row.uuid;
  if (token === null) return undefined;
  const device: GpuDevice = { token, index: row.index, uuid: row.uuid };
  if (row.name !== undefined) device.name = row.name;
  if (row.memoryUsedMiB !== undefined) device.memoryUsedMiB = row.memoryUsedMiB;
  if (row.memoryTotalMiB !== undefined) device.memoryTotalMiB = row.memoryTotalMiB;
  if (row.utilizationPct !== undefined) device.utilizationPct = row.utilizationPct;
  return device;
}

/** Devices for the given tokens, enriched with nvidia-smi stats when nvidia-smi works. */
async function devicesFromTokens(tokens: readonly string[], opts: DiscoverGpusOptions, notes: string[]): Promise<GpuDevice[]> {
  const devices = tokens.map(deviceFromToken);
  if (devices.length === 0) return devices;
  const smi = await queryNvidiaSmi(smiOptions(opts));
  if (!smi.ok) {
    notes.push(`no device stats: ${smi.reason}`);
    return devices;
  }
  const enriched = enrichDevices(devices, smi.rows);
  const unmatched = devices.filter((d) => matchRow(d, smi.rows) === undefined).map((d) => d.token);
  if (unmatched.length > 0) notes.push(`nvidia-smi shows no stats for ${unmatched.join(', ')}`);
  return enriched;
}

function smiOptions(opts: DiscoverGpusOptions): { env: NodeJS.ProcessEnv; nvidiaSmi?: string; timeoutMs?: number } {
  const out: { env: NodeJS.ProcessEnv; nvidiaSmi?: string; timeoutMs?: number } = { env: opts.env ?? process.env };
  if (opts.nvidiaSmi !== undefined) out.nvidiaSmi = opts.nvidiaSmi;
  if (opts.timeoutMs !== undefined) out.timeoutMs = opts.timeoutMs;
  return out;
}

/** Discovers the pool and says where it came from. Never throws; never blocks the event loop. */
export async function discoverGpuPool(opts: DiscoverGpusOptions = {}): Promise<GpuPool> {
  const env = opts.env ?? process.env;
  const inherited = parseCudaVisibleDevices(env.CUDA_VISIBLE_DEVICES);
  if (inherited !== null) {
    const notes = [...inherited.notes];
    const devices = await devicesFromTokens(inherited.tokens, opts, notes);
    return { source: 'CUDA_VISIBLE_DEVICES', devices, notes };
  }
  const smi = await queryNvidiaSmi(smiOptions(opts));
  if (!smi.ok) return { source: 'none', devices: [], notes: [smi.reason] };
  const devices: GpuDevice[] = [];
  for (const row of smi.rows) {
    const device = deviceFromRow(row, opts.tokenKind ?? 'index');
    if (device !== undefined && !devices.some((d) => d.token === device.token)) devices.push(device);
  }
  if (devices.length === 0) return { source: 'none', devices, notes: ['nvidia-smi listed no GPUs'] };
  return { source: 'nvidia-smi', devices, notes: [] };
}

/** The devices this process may use (see the module header for the order). Never throws. */
export async function discoverGpus(opts: DiscoverGpusOptions = {}): Promise<GpuDevice[]> {
  return (await discoverGpuPool(opts)).devices;
}

/**
 * Parses a `--gpus` value: `auto` (discover), `none`, or a comma-separated list of device tokens
 * (`0,1` or `GPU-…` UUIDs; a single number names a device, it is not a count).
 */
export function parseGpuList(spec: string): GpuListSpec {
  const value = spec.trim();
  if (/^auto$/i.test(value)) return { kind: 'auto' };
  if (/^none$/i.test(value)) return { kind: 'none' };
  const tokens = value.split(',').map((t) => t.trim());
  const usage = 'use auto, none, or a comma-separated list of device indexes or GPU-/MIG- UUIDs, e.g. --gpus 0,1';
  if (value === '' || tokens.some((t) => t === '')) {
    throw new DehbError('E_CONFIG', `--gpus has an empty entry (got "${spec}"): ${usage}`);
  }
  for (const token of tokens) {
    if (!isGpuToken(token)) throw new DehbError('E_CONFIG', `--gpus entry "${token}" is not a device: ${usage}`);
  }
  const dup = tokens.find((t, i) => tokens.indexOf(t) !== i);
  if (dup !== undefined) throw new DehbError('E_CONFIG', `--gpus lists "${dup}" twice (got "${spec}"): list each device once`);
  return { kind: 'list', tokens };
}

/** The pool for a `--gpus` value (a string is parsed with parseGpuList first). */
export async function resolveGpuPool(spec: GpuListSpec | string, opts: DiscoverGpusOptions = {}): Promise<GpuPool> {
  const parsed = typeof spec === 'string' ? parseGpuList(spec) : spec;
  if (parsed.kind === 'auto') return discoverGpuPool(opts);
  if (parsed.kind === 'none') return { source: '--gpus', devices: [], notes: ['--gpus none: GPUs disabled'] };
  const notes: string[] = [];
  const inherited = (opts.env ?? process.env).CUDA_VISIBLE_DEVICES;
  if (inherited !== undefined && inherited.trim() !== parsed.tokens.join(',')) {
    notes.push(`--gpus ${parsed.tokens.join(',')} overrides the inherited CUDA_VISIBLE_DEVICES=${inherited}`);
  }
  const devices = await devicesFromTokens(parsed.tokens, opts, notes);
  return { source: '--gpus', devices, notes };
}
