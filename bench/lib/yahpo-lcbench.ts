/**
 * Owns the YAHPO Gym LCBench surrogate (../shared/benchmarks/yahpo-lcbench): finding its folder,
 * loading the ONNX model with onnxruntime-node (a development dependency, imported dynamically so
 * the published package never needs it), and feeding it as its README says: `x_cat` int32
 * [batch, 1] (the OpenML task id through encoding.json), `x_cont` float32 [batch, 8] (epoch,
 * batch_size, learning_rate, momentum, weight_decay, num_layers, max_units, max_dropout, raw),
 * output float32 [batch, 6]. Many configurations go through one `session.run`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DehbError } from '../../src/errors.js';
import { parseSpace } from '../../src/dehb/space/index.js';
import type { Config, SpaceSpec } from '../../src/dehb/types.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The surrogate's folder: $DEHB_YAHPO_DIR, else shared/ beside the repository (or beside its worktree folder). */
export function yahpoDir(): string {
  const env = process.env.DEHB_YAHPO_DIR;
  const candidates =
    env !== undefined && env !== ''
      ? [resolve(env)]
      : [join(REPO, '..', 'shared/benchmarks/yahpo-lcbench'), join(REPO, '../..', 'shared/benchmarks/yahpo-lcbench')];
  const hit = candidates.find((p) => existsSync(join(p, 'model.onnx')));
  if (hit === undefined) {
    throw new DehbError('E_CONFIG', `YAHPO lcbench surrogate not found (looked in ${candidates.join(', ')}); set DEHB_YAHPO_DIR to the folder holding model.onnx`);
  }
  return hit;
}

/** Input columns of x_cont, in the model's order. */
export const CONT_COLUMNS = ['epoch', 'batch_size', 'learning_rate', 'momentum', 'weight_decay', 'num_layers', 'max_units', 'max_dropout'] as const;
/** Output columns, in the model's order. */
export const OUTPUT_COLUMNS = ['time', 'val_accuracy', 'val_cross_entropy', 'val_balanced_accuracy', 'test_cross_entropy', 'test_balanced_accuracy'] as const;

export type LcbenchOutput = Record<(typeof OUTPUT_COLUMNS)[number], number>;

/** One query: a task id, a configuration of the 7 hyperparameters, an epoch in 1..52. */
export interface LcbenchQuery {
  task: string;
  config: Config;
  epoch: number;
}

/** The search space without the instance parameters (task id) and the fidelity (epoch). */
export function lcbenchSpace(dir = yahpoDir()): SpaceSpec {
  const full = parseSpace(JSON.parse(readFileSync(join(dir, 'config_space.json'), 'utf8')));
  const out: SpaceSpec = {};
  for (const [name, spec] of Object.entries(full)) if (name !== 'OpenML_task_id' && name !== 'epoch') out[name] = spec;
  return out;
}

interface OrtTensor {
  data: ArrayLike<number>;
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(path: string, opts?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Int32Array | Float32Array, dims: number[]) => unknown;
}

export class LcbenchSurrogate {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    private readonly codes: Record<string, number>,
  ) {}

  /** Loads the model (one CPU thread: the bench runs on small machines). */
  static async load(dir = yahpoDir()): Promise<LcbenchSurrogate> {
    const mod = (await import('onnxruntime-node')) as unknown as Ort & { default?: Ort };
    const ort = mod.InferenceSession !== undefined ? mod : (mod.default as Ort);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const enc = JSON.parse(readFileSync(join(dir, 'encoding.json'), 'utf8')) as { OpenML_task_id: Record<string, number> };
    return new LcbenchSurrogate(ort, session, enc.OpenML_task_id);
  }

  /** The model's integer code of an OpenML task id. */
  taskCode(task: string): number {
    const code = this.codes[task];
    if (code === undefined || task === '#na#') throw new DehbError('E_CONFIG', `unknown OpenML task id ${task} (known: ${Object.keys(this.codes).filter((k) => k !== '#na#').join(', ')})`);
    return code;
  }

  /** Predicts every query in one batched session.run. */
  async predict(queries: readonly LcbenchQuery[]): Promise<LcbenchOutput[]> {
    const n = queries.length;
    if (n === 0) return [];
    const cat = new Int32Array(n);
    const cont = new Float32Array(n * CONT_COLUMNS.length);
    queries.forEach((q, i) => {
      cat[i] = this.taskCode(q.task);
      CONT_COLUMNS.forEach((col, j) => {
        const v = col === 'epoch' ? q.epoch : q.config[col];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`query ${i}: '${col}' must be a finite number (got ${String(v)})`);
        cont[i * CONT_COLUMNS.length + j] = v;
      });
    });
    const out = await this.session.run({
      x_cat: new this.ort.Tensor('int32', cat, [n, 1]),
      x_cont: new this.ort.Tensor('float32', cont, [n, CONT_COLUMNS.length]),
    });
    const data = out.output.data;
    const rows: LcbenchOutput[] = [];
    for (let i = 0; i < n; i++) {
      const row = {} as LcbenchOutput;
      OUTPUT_COLUMNS.forEach((col, j) => (row[col] = data[i * OUTPUT_COLUMNS.length + j]));
      rows.push(row);
    }
    return rows;
  }

  async close(): Promise<void> {
    await this.session.release?.();
  }
}
