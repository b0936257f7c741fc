/**
 * Owns what a command objective's child is given: argv placeholder substitution, the trial JSON,
 * the environment (DEHB_* variables, GPU pinning, the bundled Python helper on PYTHONPATH), and
 * the early "is this command runnable?" check the CLI uses to exit 2 before any trial runs.
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DehbError } from '../errors.js';
import type { EvalTask } from '../protocol/executor.js';

export type CommandRef = Extract<EvalTask['objective'], { kind: 'command' }>;

/** Files of one evaluation: its directory and the result file the child may write. */
export interface TrialFiles {
  dir: string;
  resultFile: string;
}

/** Directory of the bundled `dehb_objective.py` (package root /python; same depth from src and dist). */
export const PYTHON_HELPER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python');

/** The JSON a child receives on stdin and in DEHB_TRIAL. */
export function trialPayload(task: EvalTask, files: TrialFiles, devices: string[]): string {
  return JSON.stringify({
    v: 1,
    trialId: task.trialId,
    runId: task.runId,
    config: task.config,
    fidelity: task.fidelity,
    devices,
    trialDir: files.dir,
    resultFile: files.resultFile,
    ...(task.extra === undefined ? {} : { extra: task.extra }),
  });
}

/**
 * Values for argv placeholders: every config parameter `{name}`, plus the built-ins `{fidelity}`,
 * `{trial_id}`, `{run_id}`, `{config_json}`, `{trial_dir}`, `{result_file}` (built-ins win over a
 * parameter of the same name). Unknown names are refused before a run starts and inactive
 * conditional parameters are left out (command-placeholders.ts).
 */
export function placeholderValues(task: EvalTask, files: TrialFiles): Map<string, string> {
  const vars = new Map<string, string>();
  for (const [k, v] of Object.entries(task.config)) vars.set(k, String(v));
  vars.set('fidelity', String(task.fidelity));
  vars.set('trial_id', String(task.trialId));
  vars.set('run_id', task.runId);
  vars.set('config_json', JSON.stringify(task.config));
  vars.set('trial_dir', files.dir);
  vars.set('result_file', files.resultFile);
  return vars;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

export function substitute(arg: string, vars: Map<string, string>, quote: boolean): string {
  return arg.replace(PLACEHOLDER, (whole, key: string) => {
    const v = vars.get(key);
    if (v === undefined) return whole;
    return quote ? shellQuote(v) : v;
  });
}

/** POSIX single-quote a value substituted into a `shell: true` command line. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.,:/=+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Largest trial JSON also passed in DEHB_TRIAL (it is always on stdin). */
export const MAX_ENV_PAYLOAD = 96 * 1024;

/** The child's environment. A fresh object: process.env is never mutated. */
export function commandEnv(
  task: EvalTask,
  ref: CommandRef,
  files: TrialFiles,
  devices: string[],
  payload: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(ref.env ?? {}) };
  // Linux caps one environment string at 128 KiB; a huge trial travels on stdin only.
  if (payload.length <= MAX_ENV_PAYLOAD) env.DEHB_TRIAL = payload;
  else delete env.DEHB_TRIAL;
  env.DEHB_RESULT_FILE = files.resultFile;
  env.DEHB_TRIAL_DIR = files.dir;
  env.DEHB_FIDELITY = String(task.fidelity);
  env.DEHB_TRIAL_ID = String(task.trialId);
  env.DEHB_RUN_ID = task.runId;
  env.PYTHONPATH =
    env.PYTHONPATH === undefined || env.PYTHONPATH === ''
      ? PYTHON_HELPER_DIR
      : `${env.PYTHONPATH}${delimiter}${PYTHON_HELPER_DIR}`;
  if (env.PYTHONUNBUFFERED === undefined) env.PYTHONUNBUFFERED = '1';
  if (devices.length > 0) {
    env.CUDA_VISIBLE_DEVICES = devices.join(',');
    env.CUDA_DEVICE_ORDER = 'PCI_BUS_ID';
  }
  return env;
}

/**
 * Resolve argv[0] the way spawn will (a path with `/` against cwd, otherwise along PATH) and check
 * it is an executable file. Returns the resolved path; throws DehbError E_CONFIG with the fix.
 */
export async function checkCommandExists(
  argv0: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const cwd = opts.cwd ?? process.cwd();
  if (argv0 === '') throw new DehbError('E_CONFIG', 'objective.argv[0] is empty; give the program to run');
  const candidates = argv0.includes('/')
    ? [isAbsolute(argv0) ? argv0 : resolve(cwd, argv0)]
    : (opts.env?.PATH ?? process.env.PATH ?? '').split(delimiter).map((d) => join(d === '' ? cwd : resolve(cwd, d), argv0));
  let notExecutable: string | undefined;
  for (const file of candidates) {
    try {
      if (!(await stat(file)).isFile()) continue;
    } catch {
      continue;
    }
    try {
      await access(file, fsConstants.X_OK);
      return file;
    } catch {
      notExecutable ??= file;
    }
  }
  if (notExecutable !== undefined) {
    throw new DehbError(
      'E_CONFIG',
      `objective command is not executable: ${notExecutable} (objective.argv[0]); chmod +x it or run it through an interpreter, e.g. ["python3", "${argv0}"]`,
    );
  }
  throw new DehbError(
    'E_CONFIG',
    argv0.includes('/')
      ? `objective command not found: ${candidates[0]} (objective.argv[0])`
      : `objective command not found: '${argv0}' is not on PATH (objective.argv[0]); give an absolute path or fix PATH`,
  );
}
