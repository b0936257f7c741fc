/**
 * What the suite needs on the machine besides node_modules: redis-server and python3 (installed
 * with apt when we are root, as .ci/run does; otherwise the exact install command is printed),
 * and for the SLURM tests a one-node SLURM cluster (.ci/slurm-setup.sh, which needs root).
 */
import { spawnSync } from 'node:child_process';

const PACKAGES = [
  { command: 'redis-server', pkg: 'redis-server' },
  { command: 'python3', pkg: 'python3' },
];

function has(command: string, path = process.env.PATH ?? ''): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${command}`], { stdio: 'ignore', env: { PATH: path } }).status === 0;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Returns null when everything is there (possibly after installing it), else what to do.
 * `path` and `root` stand in for $PATH and being root (tests).
 */
export function ensurePackages(log: (m: string) => void, o: { path?: string; root?: boolean } = {}): string | null {
  const missing = PACKAGES.filter((p) => !has(p.command, o.path));
  if (missing.length === 0) return null;
  const pkgs = missing.map((p) => p.pkg);
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  if (!(o.root ?? isRoot()) || !has('apt-get', o.path)) {
    return `the test suite needs ${missing.map((p) => p.command).join(' and ')}, missing here; install with:\n  sudo sh -c '${cmd}'`;
  }
  log(`installing ${pkgs.join(', ')} with apt-get (missing here)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const upd = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const inst = upd.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env }) : upd;
  if (inst.status !== 0 || missing.some((p) => !has(p.command, o.path))) return `apt-get could not install ${pkgs.join(' ')}; run by hand:\n  ${cmd}`;
  return null;
}

/** Sets up (as root) or checks (otherwise) the one-node SLURM cluster; null when it is up. */
export function ensureSlurm(root: string, log: (m: string) => void): string | null {
  if (isRoot()) {
    log('setting up the one-node SLURM cluster (.ci/slurm-setup.sh; quick when it is already up)');
    const r = spawnSync('bash', ['.ci/slurm-setup.sh'], { cwd: root, stdio: 'inherit' });
    return r.status === 0 ? null : `.ci/slurm-setup.sh failed (exit ${r.status}); see its messages above`;
  }
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status === 0 && /^(idle|mixed|allocated|completing)$/m.test(r.stdout)) return null;
  return 'the SLURM tests need a one-node SLURM cluster; set it up with:\n  sudo bash .ci/slurm-setup.sh';
}
