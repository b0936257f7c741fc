/**
 * Owns talking to nvidia-smi: the exact query, an asynchronous call (execFile with a timeout, so
 * the event loop never blocks, unlike systeminformation's execFileSync) and a tolerant parser of
 * its `csv,noheader,nounits` output. There is no maintained nvidia-smi parser on npm; this is tiny.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import type { GpuDevice } from './types.js';

/** Columns we ask for, in order. */
export const NVIDIA_SMI_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.used',
  'memory.total',
  'utilization.gpu',
] as const;

/** Arguments of the inventory query. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  `--query-gpu=${NVIDIA_SMI_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

/** Default limit for one nvidia-smi call. Without persistence mode a call can take 1–3 s per GPU. */
export const DEFAULT_NVIDIA_SMI_TIMEOUT_MS = 30_000;

/** One parsed line of nvidia-smi output: a device before it has a CUDA_VISIBLE_DEVICES token. */
export type NvidiaSmiRow = Omit<GpuDevice, 'token'>;

export type NvidiaSmiResult = { ok: true; rows: NvidiaSmiRow[] } | { ok: false; reason: string };

export interface QueryNvidiaSmiOptions {
  /** Environment of the call; its PATH is used to find the binary. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Binary name or path. Default: `nvidia-smi` (looked up on PATH). */
  nvidiaSmi?: string;
  /** Kill the call after this many ms. Default 30 000. */
  timeoutMs?: number;
}

/** Runs the inventory query asynchronously. Never throws: a missing binary or a failure gives `ok: false`. */
export function queryNvidiaSmi(opts: QueryNvidiaSmiOptions = {}): Promise<NvidiaSmiResult> {
  const bin = opts.nvidiaSmi ?? 'nvidia-smi';
  const timeout = opts.timeoutMs ?? DEFAULT_NVIDIA_SMI_TIMEOUT_MS;
  return new Promise((resolve) => {
    try {
      execFile(
        bin,
        [...NVIDIA_SMI_ARGS],
        {
          env: opts.env ?? process.env,
          timeout,
          killSignal: 'SIGKILL',
          maxBuffer: 4 * 1024 * 1024,
          windowsHide: true,
          encoding: 'utf8',
        },
        (err, stdout, stderr) => {
          if (err) {
            resolve({ ok: false, reason: describeFailure(bin, err, stdout, stderr, timeout) });
            return;
          }
          resolve({ ok: true, rows: parseNvidiaSmiCsv(stdout) });
        },
      );
    } catch (err) {
      // execFile throws synchronously only for invalid arguments (e.g. a NUL byte in the path).
      resolve({ ok: false, reason: `${bin} could not be started: ${(err as Error).message}` });
    }
  });
}

function describeFailure(
  bin: string,
  err: ExecFileException,
  stdout: string,
  stderr: string,
  timeout: number,
): string {
  if (err.code === 'ENOENT') return `${bin} not found (not on PATH)`;
  if (err.code === 'EACCES') return `${bin} is not executable`;
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `${bin} printed more output than expected`;
  if (err.killed === true || err.signal) {
    return err.killed === true && err.signal === 'SIGKILL'
      ? `${bin} timed out after ${timeout} ms`
      : `${bin} was killed by ${err.signal ?? 'a signal'}`;
  }
  const firstLine = `${stderr}\n${stdout}`.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
  const status = typeof err.code === 'number' ? `exited with code ${err.code}` : `failed (${err.code ?? err.message})`;
  return firstLine === undefined ? `${bin} ${status}` : `${bin} ${status}: ${firstLine}`;
}

/**
 * Parses `index, uuid, name, memory.used, memory.total, utilization.gpu` lines. Blank lines, a
 * header and lines that are not GPU rows (driver error messages) are skipped; `N/A`, `[N/A]`,
 * `[Not Supported]` and other bracketed statuses become undefined; stray units are tolerated.
 * Rows are returned sorted by index (nvidia-smi's PCI bus order).
 */
export function parseNvidiaSmiCsv(text: string): NvidiaSmiRow[] {
  const rows: NvidiaSmiRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    const raw = line.split(',');
    const fields = raw.map((f) => f.trim());
    if (fields.length < NVIDIA_SMI_FIELDS.length) continue;
    const n = fields.length;
    const indexField = cleanField(fields[0]);
    const index = indexField !== undefined && /^\d+$/.test(indexField) ? Number(indexField) : null;
    const uuidField = cleanField(fields[1]);
    const uuid = uuidField !== undefined && /^(GPU|MIG)-\S+$/i.test(uuidField) ? uuidField : null;
    if (index === null && uuid === null) continue; // header, garbage, or an error message with commas
    const row: NvidiaSmiRow = { index, uuid };
    // A name containing commas would split into several fields: everything between uuid and the
    // three numeric columns is the name.
    const name = cleanField(raw.slice(2, n - 3).join(','));
    if (name !== undefined) row.name = name;
    const used = parseNumber(fields[n - 3]);
    if (used !== undefined) row.memoryUsedMiB = used;
    const total = parseNumber(fields[n - 2]);
    if (total !== undefined) row.memoryTotalMiB = total;
    const util = parseNumber(fields[n - 1]);
    if (util !== undefined) row.utilizationPct = util;
    rows.push(row);
  }
  return rows.sort((a, b) => (a.index ?? Number.MAX_SAFE_INTEGER) - (b.index ?? Number.MAX_SAFE_INTEGER));
}

/** A trimmed value, or undefined for empty / `N/A` / `[Anything In Brackets]`. */
function cleanField(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^N\/A$/i.test(v) || /^\[.*\]$/.test(v)) return undefined;
  return v;
}

/** A finite non-negative number, tolerating a unit suffix (`1234 MiB`, `45 %`), else undefined. */
function parseNumber(raw: string | undefined): number | undefined {
  const v = cleanField(raw);
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(?:MiB|%)?$/i.exec(v);
  if (m === null) return undefined;
  const num = Number(m[1]);
  return Number.isFinite(num) ? num : undefined;
}
