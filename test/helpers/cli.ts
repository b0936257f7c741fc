/**
 * Runs the `dehb` CLI as a real child process from the built dist/ (plain node: no tsx start-up per
 * process; `npm test` builds first) and collects its exit code, stdout and stderr. cliEntry()
 * refuses a dist/ older than src/, so a test never passes or fails on stale code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI entry (what the `dehb` bin runs). */
export const MAIN = join(ROOT, 'dist', 'cli', 'main.js');

function newestMtime(dir: string): { ms: number; file: string } {
  let best = { ms: 0, file: '' };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const cand = e.isDirectory() ? newestMtime(p) : e.name.endsWith('.ts') ? { ms: statSync(p).mtimeMs, file: p } : best;
    if (cand.ms > best.ms) best = cand;
  }
  return best;
}

let checked = false;

/** MAIN, once it is known to be built from the current src/ (throws with the command otherwise). */
export function cliEntry(): string {
  if (checked) return MAIN;
  let built: number;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    throw new Error(`${MAIN} does not exist: build first with \`npm run build\` (npm test does)`);
  }
  const src = newestMtime(join(ROOT, 'src'));
  if (src.ms > built) {
    throw new Error(`dist/ is older than ${src.file.slice(ROOT.length)}: rebuild with \`npm run build\` (npm test does)`);
  }
  checked = true;
  return MAIN;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [cliEntry(), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}
