/** Runs one child process to its end (stdout drained, stderr ignored): the "bare spawn" unit. */
import { spawn } from 'node:child_process';

export function spawnOnce(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    c.stdout.resume();
    c.on('error', reject);
    c.on('close', () => resolve());
  });
}
