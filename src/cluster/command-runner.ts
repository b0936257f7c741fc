/**
 * Owns running one command-objective evaluation as a child process: spawn it detached in its own
 * process group, feed the trial JSON on stdin, save stdout/stderr, stream DEHB_REPORT lines,
 * enforce the timeout and abort by killing the whole group (SIGTERM, then SIGKILL after a grace),
 * and turn exit status + result file / `DEHB_RESULT` line into an EvalOutcome.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { DehbError } from '../errors.js';
import {
  commandEnv,
  placeholderValues,
  substitute,
  trialPayload,
  type CommandRef,
  type TrialFiles,
} from './command-env.js';
import { expandArgv } from './command-placeholders.js';
import type { EvalOutcome, EvalTask } from '../protocol/executor.js';
import { groupAlive, signalGroup, trackGroup, untrackGroup, waitGroupGone } from './process-group.js';
import { failed, parseResultText, type OkOrFailed } from './result-parse.js';

export { checkCommandExists } from './command-env.js';

export interface RunCommandOptions {
  signal?: AbortSignal;
  /** Devices to pin: CUDA_VISIBLE_DEVICES=<comma-joined>, CUDA_DEVICE_ORDER=PCI_BUS_ID. */
  devices?: string[];
  onReport?: (step: number, value: number) => void;
  /** Time between SIGTERM and SIGKILL of the process group. Default 2000 ms. */
  killGraceMs?: number;
}

const TAIL_BYTES = 64 * 1024;
const MAX_LINE = 1024 * 1024;
/** Exit code a command uses to ask for a retry (sysexits EX_TEMPFAIL). */
export const RETRYABLE_EXIT_CODE = 75;

/** Run one evaluation of a command objective. Resolves for every child behaviour. */
export async function runCommand(task: EvalTask, opts: RunCommandOptions = {}): Promise<EvalOutcome> {
  const ref = task.objective;
  if (ref.kind !== 'command') return failed(`runCommand needs a command objective (got kind '${ref.kind}')`);
  if (!Array.isArray(ref.argv) || ref.argv.length === 0) return failed('objective.argv is empty; give the program to run');
  if (opts.signal?.aborted) return { status: 'cancelled', reason: reasonText(opts.signal.reason) };
  if (ref.cwd !== undefined && !(await isDir(ref.cwd))) {
    return failed(`objective.cwd is not a directory: ${ref.cwd}`);
  }
  const files = await prepareFiles(task);
  try {
    return await spawnAndWait(task, ref, files, opts);
  } finally {
    if (files.temp) await rm(files.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function prepareFiles(task: EvalTask): Promise<TrialFiles & { temp: boolean; logs: boolean }> {
  try {
    if (task.trialDir !== undefined) {
      await mkdir(task.trialDir, { recursive: true });
      const resultFile = join(task.trialDir, 'result.json');
      await rm(resultFile, { force: true });
      return { dir: task.trialDir, resultFile, temp: false, logs: true };
    }
    const dir = await mkdtemp(join(tmpdir(), 'dehb-trial-'));
    return { dir, resultFile: join(dir, 'result.json'), temp: true, logs: false };
  } catch (err) {
    throw new DehbError('E_EXECUTOR', `cannot prepare trial directory for trial ${task.trialId}: ${(err as Error).message}`, { cause: err });
  }
}

function spawnAndWait(
  task: EvalTask,
  ref: CommandRef,
  files: TrialFiles & { logs: boolean },
  opts: RunCommandOptions,
): Promise<EvalOutcome> {
  const devices = opts.devices ?? [];
  const grace = opts.killGraceMs ?? 2000;
  const payload = trialPayload(task, files, devices);
  const vars = placeholderValues(task, files);
  const shell = ref.shell === true;
  const argv = expandArgv(ref.argv, vars, (a) => substitute(a, vars, shell));
  const env = commandEnv(task, ref, files, devices, payload);

  return new Promise<EvalOutcome>((resolveOutcome) => {
    let child: ChildProcess;
    let spawnError: NodeJS.ErrnoException | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let killing: 'timeout' | 'cancel' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let sigkillSent = false;
    let finished = false;
    let resultLine: string | undefined;
    let stdoutTail = '';
    let stderrTail = '';
    let lineBuf = '';
    let skippingLongLine = false;
    const decoder = new StringDecoder('utf8');
    const outLog: WriteStream | undefined = files.logs ? createWriteStream(join(files.dir, 'stdout.log')) : undefined;
    const errLog: WriteStream | undefined = files.logs ? createWriteStream(join(files.dir, 'stderr.log')) : undefined;
    outLog?.on('error', () => undefined);
    errLog?.on('error', () => undefined);

    const onLine = (raw: string): void => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.startsWith('DEHB_RESULT ')) resultLine = line.slice(12);
      else if (line.startsWith('DEHB_REPORT ') && opts.onReport !== undefined) {
        try {
          const r = JSON.parse(line.slice(12)) as { step?: unknown; value?: unknown };
          if (typeof r.step === 'number' && typeof r.value === 'number') opts.onReport(r.step, r.value);
        } catch {
          /* a malformed report line is ignored; it stays in stdout.log */
        }
      }
    };
    const onStdoutText = (text: string): void => {
      stdoutTail = tail(stdoutTail + text);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        if (!skippingLongLine) onLine(lineBuf + text.slice(start, nl));
        lineBuf = '';
        skippingLongLine = false;
        start = nl + 1;
      }
      if (!skippingLongLine) lineBuf += text.slice(start);
      if (lineBuf.length > MAX_LINE) {
        lineBuf = '';
        skippingLongLine = true;
      }
    };

    const cleanupListeners = (): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (timeoutTimer !== undefined) clearTimeout(timeoutTimer);
    };
    const startKill = (why: 'timeout' | 'cancel'): void => {
      if (killing !== undefined || exit !== undefined || child.pid === undefined) return;
      killing = why;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        sigkillSent = true;
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      }, grace);
    };
    const onAbort = (): void => startKill('cancel');
    let timeoutTimer: NodeJS.Timeout | undefined;

    const finish = async (): Promise<void> => {
      if (finished) return;
      finished = true;
      cleanupListeners();
      if (!skippingLongLine && lineBuf !== '') onLine(lineBuf + decoder.end());
      await Promise.all([endStream(outLog), endStream(errLog)]);
      const pid = child?.pid;
      if (pid !== undefined) {
        if (killing !== undefined) {
          // Make sure the group is really gone before the devices are handed on.
          await waitGroupGone(pid, () => sigkillSent);
        } else if (groupAlive(pid)) {
          // Leftovers of a finished evaluation: terminate them in the background.
          signalGroup(pid, 'SIGTERM');
          setTimeout(() => signalGroup(pid, 'SIGKILL'), grace).unref();
        }
        untrackGroup(pid);
      }
      if (killTimer !== undefined) clearTimeout(killTimer);
      const outcome = await decide();
      const withWorker: EvalOutcome = pid === undefined ? outcome : { ...outcome, worker: { pid } };
      resolveOutcome(withWorker);
    };

    const decide = async (): Promise<EvalOutcome> => {
      if (spawnError !== undefined) return spawnFailure(spawnError, argv[0] ?? '');
      if (killing === 'timeout') return { status: 'timed-out', timeoutMs: task.timeoutMs ?? 0 };
      if (killing === 'cancel') return { status: 'cancelled', reason: reasonText(opts.signal?.reason) };
      const e = exit ?? { code: null, signal: null };
      const details: Record<string, unknown> = { exitCode: e.code, signal: e.signal, stderrTail: stderrTail.slice(-4000) };
      if (files.logs) {
        details.stdoutLog = join(files.dir, 'stdout.log');
        details.stderrLog = join(files.dir, 'stderr.log');
      }
      if (e.signal !== null) {
        const oom = e.signal === 'SIGKILL' ? ' (often the out-of-memory killer; check `dmesg`)' : '';
        return failed(`objective command was killed by ${e.signal}${oom}${tailText(stderrTail, stdoutTail)}`, { name: 'CommandError', details });
      }
      if (e.code !== 0) {
        return failed(`objective command exited with code ${e.code}${tailText(stderrTail, stdoutTail)}`, {
          name: 'CommandError',
          retryable: e.code === RETRYABLE_EXIT_CODE,
          details,
        });
      }
      const fileText = await readFile(files.resultFile, 'utf8').catch(() => undefined);
      let res: OkOrFailed;
      if (fileText !== undefined && fileText.trim() !== '') res = parseResultText(fileText, `result file ${files.resultFile}`);
      else if (resultLine !== undefined) res = parseResultText(resultLine, 'DEHB_RESULT line');
      else {
        res = failed(
          `objective command exited 0 but reported no result: write JSON {"fitness": <number>} to $DEHB_RESULT_FILE or print a line 'DEHB_RESULT {"fitness": <number>}'${tailText(stderrTail, stdoutTail)}`,
          { name: 'CommandError', details },
        );
      }
      return res;
    };

    try {
      child = shell
        ? spawn(argv.join(' '), { cwd: ref.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'], shell: true })
        : spawn(argv[0] ?? '', argv.slice(1), { cwd: ref.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      spawnError = err as NodeJS.ErrnoException;
      void Promise.all([endStream(outLog), endStream(errLog)]).then(() =>
        resolveOutcome(spawnFailure(spawnError as NodeJS.ErrnoException, argv[0] ?? '')),
      );
      return;
    }
    if (child.pid !== undefined) trackGroup(child.pid);

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined && exit === undefined) {
        spawnError = err;
        void finish();
      }
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(`${payload}\n`);
    child.stdout?.on('data', (chunk: Buffer) => {
      outLog?.write(chunk);
      onStdoutText(decoder.write(chunk));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errLog?.write(chunk);
      stderrTail = tail(stderrTail + chunk.toString('utf8'));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Grandchildren may hold the pipes open: don't wait for them forever.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        void finish();
      }, grace + 1000).unref();
    });
    child.on('close', () => void finish());

    if (opts.signal !== undefined) opts.signal.addEventListener('abort', onAbort, { once: true });
    if (task.timeoutMs !== null && task.timeoutMs !== undefined && task.timeoutMs > 0) {
      timeoutTimer = setTimeout(() => startKill('timeout'), task.timeoutMs);
    }
  });
}

function spawnFailure(err: NodeJS.ErrnoException, argv0: string): OkOrFailed {
  if (err.code === 'ENOENT') {
    return failed(
      argv0.includes('/')
        ? `objective command not found: ${argv0} (objective.argv[0])`
        : `objective command not found: '${argv0}' is not on PATH (objective.argv[0]); give an absolute path or fix PATH`,
      { name: 'CommandError' },
    );
  }
  if (err.code === 'EACCES') {
    return failed(`objective command is not executable: ${argv0} (objective.argv[0]); chmod +x it or run it through an interpreter`, { name: 'CommandError' });
  }
  return failed(`objective command could not start: ${err.message}`, { name: 'CommandError' });
}

function endStream(s: WriteStream | undefined): Promise<void> {
  if (s === undefined || s.destroyed) return Promise.resolve();
  return new Promise((r) => s.end(() => r()));
}

function tail(s: string): string {
  return s.length > TAIL_BYTES ? s.slice(s.length - TAIL_BYTES) : s;
}

function tailText(stderr: string, stdout: string): string {
  const src = stderr.trim() !== '' ? ['stderr', stderr] : stdout.trim() !== '' ? ['stdout', stdout] : undefined;
  if (src === undefined) return '';
  const lines = src[1].trimEnd().split('\n').slice(-20).join('\n');
  return `; last ${src[0]} lines:\n${lines.length > 4000 ? lines.slice(-4000) : lines}`;
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return 'aborted';
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
