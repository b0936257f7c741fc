/**
 * Owns per-evaluation GPU allocation in the process that starts evaluations (the local/process
 * executor, or each `dehb worker` for its node): a pool of devices, the number of evaluations on
 * each, least-loaded choice (several evaluations share a device when they outnumber devices) and
 * an optional, unref'd periodic refresh of utilisation/memory from nvidia-smi.
 */
import { DehbError } from '../errors.js';
import { chooseDevices } from './choose.js';
import { discoverGpuPool, enrichDevices, type DiscoverGpusOptions } from './discover.js';
import { queryNvidiaSmi } from './nvidia-smi.js';
import type { GpuDevice, GpuDeviceLoad } from './types.js';

/** What executors need from an allocator. */
export interface DeviceAllocator {
  acquire(n: number): Promise<string[]> | string[];
  release(devices: string[]): void;
}

export interface GpuAllocatorOptions extends DiscoverGpusOptions {
  /** The pool. Default: discoverGpus() (inherited CUDA_VISIBLE_DEVICES, else nvidia-smi). */
  devices?: GpuDevice[];
  /** Devices per evaluation when acquire() gets no count. Default 1. */
  gpusPerTrial?: number;
  /** Refresh utilisation/memory from nvidia-smi every this many ms. Default 0 (off). */
  refreshStatsMs?: number;
  /** Fail in create() (E_NO_GPU) when the pool is empty or smaller than gpusPerTrial. Default false. */
  requireGpus?: boolean;
}

export interface GpuAllocationSnapshot {
  device: GpuDevice;
  /** Evaluations currently holding the device. */
  active: number;
}

const NO_GPU_MESSAGE =
  'no GPUs found: set CUDA_VISIBLE_DEVICES or install nvidia-smi, or drop --single-node-with-gpus';

interface Lease {
  ref: readonly string[];
  tokens: string[];
}

export class GpuAllocator implements DeviceAllocator {
  /** Discovers the pool (unless `devices` is given) and builds the allocator. */
  static async create(opts: GpuAllocatorOptions = {}): Promise<GpuAllocator> {
    if (opts.devices !== undefined) return new GpuAllocator(opts.devices, [], opts);
    const pool = await discoverGpuPool(opts);
    return new GpuAllocator(pool.devices, pool.notes, opts);
  }

  readonly gpusPerTrial: number;
  private devices: GpuDevice[];
  private readonly active = new Map<string, number>();
  private readonly leases: Lease[] = [];
  private readonly released = new WeakSet<readonly string[]>();
  private readonly notes: string[];
  private readonly smiOptions: DiscoverGpusOptions;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<boolean> | undefined;

  private constructor(devices: readonly GpuDevice[], notes: string[], opts: GpuAllocatorOptions) {
    const perTrial = opts.gpusPerTrial ?? 1;
    if (!Number.isInteger(perTrial) || perTrial < 0) {
      throw new DehbError('E_CONFIG', `gpusPerTrial must be a non-negative integer (got ${perTrial})`);
    }
    const refreshMs = opts.refreshStatsMs ?? 0;
    if (!Number.isFinite(refreshMs) || refreshMs < 0) {
      throw new DehbError('E_CONFIG', `refreshStatsMs must be a number of ms >= 0, 0 to disable (got ${refreshMs})`);
    }
    for (const d of devices) {
      if (typeof d.token !== 'string' || d.token.trim() === '' || d.token.includes(',')) {
        throw new DehbError('E_CONFIG', `GPU device token must be a non-empty string without commas (got ${JSON.stringify(d.token)})`);
      }
      if (this.active.has(d.token)) {
        throw new DehbError('E_CONFIG', `GPU device "${d.token}" is listed twice: list each device once`);
      }
      this.active.set(d.token, 0);
    }
    this.gpusPerTrial = perTrial;
    this.devices = devices.map((d) => ({ ...d }));
    this.notes = notes;
    this.smiOptions = { env: opts.env, nvidiaSmi: opts.nvidiaSmi, timeoutMs: opts.timeoutMs };
    if (opts.requireGpus === true && perTrial > 0) {
      if (this.devices.length === 0) throw this.noGpuError();
      if (perTrial > this.devices.length) chooseDevices(this.loads(), perTrial); // throws E_NO_GPU
    }
    if (refreshMs > 0 && this.devices.length > 0) {
      this.timer = setInterval(() => void this.refreshStats(), refreshMs);
      this.timer.unref();
    }
  }

  /** Number of devices in the pool. */
  get size(): number {
    return this.devices.length;
  }

  /**
   * Chooses `n` distinct devices for one evaluation (least loaded first) and counts it on each.
   * Synchronous. Returns [] for n = 0. Pass the returned array to release() when it ends.
   * @throws DehbError E_NO_GPU when the pool is empty or smaller than n; E_CONFIG for a bad n.
   */
  acquire(n: number = this.gpusPerTrial): string[] {
    if (n > 0 && this.devices.length === 0) throw this.noGpuError();
    const tokens = chooseDevices(this.loads(), n);
    if (tokens.length === 0) return tokens;
    for (const t of tokens) this.active.set(t, (this.active.get(t) ?? 0) + 1);
    this.leases.push({ ref: tokens, tokens: [...tokens] });
    return tokens;
  }

  /**
   * Ends one evaluation's hold on its devices. Safe to call twice or with anything: releasing an
   * array that is not held (any more) is a no-op, so counts never go below 0, and releasing the
   * array acquire() returned a second time never frees another evaluation's hold. A copy with the
   * same tokens (e.g. after serialization) releases one matching hold.
   * @returns true when a hold was released.
   */
  release(tokens: readonly string[]): boolean {
    let i = this.leases.findIndex((l) => l.ref === tokens);
    // An array acquire() returned and that was released already: a repeated release, not a copy.
    if (i < 0 && this.released.has(tokens)) return false;
    if (i < 0) i = this.leases.findIndex((l) => sameTokens(l.tokens, tokens));
    if (i < 0) return false;
    const [lease] = this.leases.splice(i, 1);
    this.released.add(lease.ref);
    for (const t of lease.tokens) this.active.set(t, Math.max(0, (this.active.get(t) ?? 0) - 1));
    return true;
  }

  /** Evaluations currently on a device (0 for unknown tokens). */
  activeOn(token: string): number {
    return this.active.get(token) ?? 0;
  }

  /** Each device (a copy) with its active count, in pool order. */
  snapshot(): GpuAllocationSnapshot[] {
    return this.devices.map((d) => ({ device: { ...d }, active: this.active.get(d.token) ?? 0 }));
  }

  /**
   * Re-reads utilisation and memory from nvidia-smi (asynchronous; concurrent calls share one
   * query). Keeps the previous stats when nvidia-smi fails. @returns true when stats were updated.
   */
  refreshStats(): Promise<boolean> {
    if (this.refreshing !== undefined) return this.refreshing;
    if (this.devices.length === 0) return Promise.resolve(false);
    this.refreshing = queryNvidiaSmi(this.smiOptions)
      .then((smi) => {
        if (!smi.ok || smi.rows.length === 0) return false;
        this.devices = enrichDevices(this.devices, smi.rows);
        return true;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Stops the periodic refresh. Holds and counts are kept. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private loads(): GpuDeviceLoad[] {
    return this.devices.map((d) => ({ ...d, active: this.active.get(d.token) ?? 0 }));
  }

  private noGpuError(): DehbError {
    const why = this.notes.length > 0 ? ` (${this.notes.join('; ')})` : '';
    return new DehbError('E_NO_GPU', `${NO_GPU_MESSAGE}${why}`, { details: { notes: [...this.notes] } });
  }
}

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
