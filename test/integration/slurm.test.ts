/**
 * End to end on a real one-node SLURM cluster (.ci/slurm-setup.sh: 4 fake GRES GPUs): the sbatch
 * scripts in scripts/slurm/ run a dehb optimization with Redis, a coordinator and workers, in one
 * job and as separate jobs meeting through the scheduler file. Checks the run finished with the
 * budgeted number of trials and that every trial ran pinned to a GPU SLURM gave its worker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cliEntry } from '../helpers/cli.js';
import {
  cancelJobs,
  dumpOutputs,
  jobStates,
  requireSlurm,
  sbatch,
  waitFor,
  waitForJobs,
} from './slurm-helpers.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPTS = join(ROOT, 'scripts', 'slurm');
const OBJECTIVE = join(ROOT, 'test', 'fixtures', 'slurm', 'objective.mjs');
const FEVALS = 20;
const JOB_TIMEOUT_MS = 100_000;

let dir = '';
const submitted: string[] = [];

/** The built dehb CLI (`npm run test:slurm` builds first; a dist/ older than src/ is refused). */
function dehbBin(): string {
  return `node ${cliEntry()}`;
}

/** Environment for sbatch (--export=ALL by default): our knobs on top of a clean copy of ours. */
function jobEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  return { ...env, DEHB_BIN: dehbBin(), DEHB_BIND: '127.0.0.1', ...extra };
}

async function writeConfig(path: string): Promise<void> {
  const config = {
    space: {
      x: { type: 'float', low: -1, high: 1 },
      y: { type: 'float', low: -1, high: 1 },
    },
    command: [OBJECTIVE],
    minFidelity: 1,
    maxFidelity: 9,
    eta: 3,
    seed: 7,
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
}

interface Seen {
  trialId: number;
  cuda: string | null;
  jobGpus: string | null;
  stepGpus: string | null;
  slurmJobId: string | null;
  arrayTask: string | null;
}

interface HistoryRecord {
  trialId: number;
  status: string;
  info: Partial<Seen>;
}

async function readHistory(outputDir: string): Promise<HistoryRecord[]> {
  const { stdout } = await run('node', [cliEntry(), 'show', outputDir, '--format', 'json']); // the full records, from the journal
  return (JSON.parse(stdout) as { trials: HistoryRecord[] }).trials;
}

async function readSeen(file: string): Promise<Seen[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Seen);
}

/** Every trial was pinned to exactly one GPU out of those SLURM allocated to its worker's job. */
function assertPinnedToSlurmGpus(seen: Seen[], forbidden: string[] = []): void {
  assert.ok(seen.length > 0, 'the objective never ran');
  for (const s of seen) {
    const allocated = (s.jobGpus ?? '').split(',').filter((g) => g !== '');
    assert.ok(allocated.length > 0, `trial ${s.trialId}: SLURM gave its worker no GPUs (${JSON.stringify(s)})`);
    assert.match(s.cuda ?? '', /^\d+$/, `trial ${s.trialId}: CUDA_VISIBLE_DEVICES='${s.cuda}' is not one device`);
    assert.ok(
      allocated.includes(s.cuda ?? ''),
      `trial ${s.trialId} ran on GPU ${s.cuda}, not one SLURM gave its worker (${allocated.join(',')})`,
    );
    for (const g of forbidden) assert.notEqual(s.cuda, g, `trial ${s.trialId} ran on GPU ${g}, held by another job`);
  }
}

function assertHistory(history: HistoryRecord[]): void {
  assert.equal(history.length, FEVALS, `history has ${history.length} trials, expected ${FEVALS}`);
  const ids = history.map((h) => h.trialId);
  assert.equal(new Set(ids).size, ids.length, 'one record per trial');
  for (const h of history) assert.equal(h.status, 'ok', `trial ${h.trialId} is ${h.status}`);
}

/** Index of the GPU a running job holds, from `scontrol show job -d` (GRES=gpu:1(IDX:0)). */
async function gpuIndexesOf(jobId: string): Promise<string[]> {
  const { stdout } = await run('scontrol', ['show', 'job', '-d', jobId]);
  const m = /IDX:([0-9,-]+)\)/.exec(stdout);
  if (m === null) return [];
  return m[1].split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [String(a)] : Array.from({ length: b - a + 1 }, (_, i) => String(a + i));
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-slurm-'));
});
after(async () => {
  await cancelJobs(submitted);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('scripts/slurm on a one-node SLURM cluster', () => {
  it('dehb-job.sbatch: Redis, coordinator and a worker in one job, trials pinned to the job\'s GPUs', { timeout: 150_000 }, async () => {
    await requireSlurm(); // fails (never skips) with the setup hint when SLURM is missing
    const work = join(dir, 'single');
    await mkdir(work, { recursive: true });
    await writeConfig(join(work, 'dehb.json'));
    const seenFile = join(work, 'seen.jsonl');
    const output = join(work, 'out');

    // Hold one GPU with another job first, so the dehb job gets GPUs other than 0 and a worker
    // that ignored SLURM's CUDA_VISIBLE_DEVICES would be caught.
    const blocker = await sbatch(['--gres=gpu:1', '-n1', '-c1', '-t', '5', '-J', 'dehb-test-blocker', `--output=${work}/blocker-%j.out`, '--wrap', 'sleep 300'], { cwd: work });
    submitted.push(blocker);
    const held = await waitFor('the GPU-holding job to start', 30_000, async () => {
      const state = (await jobStates([blocker])).get(blocker);
      return state === 'RUNNING' ? gpuIndexesOf(blocker) : undefined;
    });
    assert.equal(held.length, 1, `blocker job holds GPUs ${held.join(',')}`);

    const id = await sbatch(
      ['--gres=gpu:2', '-c2', '-t', '5', '-J', 'dehb-test-job', `--output=${work}/job-%j.out`, join(SCRIPTS, 'dehb-job.sbatch')],
      {
        cwd: work,
        env: jobEnv({
          DEHB_CONFIG: join(work, 'dehb.json'),
          DEHB_OUTPUT: output,
          DEHB_FEVALS: String(FEVALS),
          DEHB_CONCURRENCY: '2',
          DEHB_GPUS_PER_TRIAL: '1',
          DEHB_WORKER_ARGS: `--allow ${dirname(OBJECTIVE)}`,
          DEHB_STOP_GRACE: '20',
          DEHB_TEST_SEEN_FILE: seenFile,
        }),
      },
    );
    submitted.push(id);
    const states = await waitForJobs([id], JOB_TIMEOUT_MS, () => dumpOutputs(work));
    await cancelJobs([blocker]);
    assert.equal(states.get(id), 'COMPLETED', `dehb job ended ${states.get(id)}\n${await dumpOutputs(work)}`);

    assertHistory(await readHistory(output));
    const seen = await readSeen(seenFile);
    assertPinnedToSlurmGpus(seen, held);
    for (const s of seen) {
      assert.equal(s.slurmJobId, id, 'trials ran inside the dehb job');
      assert.equal(s.jobGpus?.split(',').length, 2, `the job got 2 GPUs (${s.jobGpus})`);
    }
  });

  it('separate jobs: scheduler job, worker job array and coordinator job meet through the scheduler file', { timeout: 150_000 }, async () => {
    await requireSlurm();
    const work = join(dir, 'separate');
    await mkdir(work, { recursive: true });
    await writeConfig(join(work, 'dehb.json'));
    const seenFile = join(work, 'seen.jsonl');
    const output = join(work, 'out');
    const env = jobEnv({
      DEHB_SCHEDULER_FILE: join(work, 'scheduler.json'),
      DEHB_REDIS_DIR: join(work, 'redis'),
      DEHB_CONFIG: join(work, 'dehb.json'),
      DEHB_OUTPUT: output,
      DEHB_FEVALS: String(FEVALS),
      DEHB_CONCURRENCY: '2',
      DEHB_GPUS_PER_TRIAL: '1',
      DEHB_WORKER_ARGS: `--allow ${dirname(OBJECTIVE)}`,
      DEHB_TEST_SEEN_FILE: seenFile,
    });
    const common = ['-t', '5', '-c1'];

    const sched = await sbatch([...common, '-J', 'dehb-test-sched', `--output=${work}/sched-%j.out`, join(SCRIPTS, 'dehb-scheduler.sbatch')], { cwd: work, env });
    submitted.push(sched);
    const workers = await sbatch(
      [...common, '--array=1-2', '--gres=gpu:2', '-J', 'dehb-test-workers', `--output=${work}/workers-%A_%a.out`, join(SCRIPTS, 'dehb-workers.sbatch')],
      { cwd: work, env },
    );
    submitted.push(workers);
    const coord = await sbatch(
      [...common, '-J', 'dehb-test-coord', `--output=${work}/coord-%j.out`, join(SCRIPTS, 'dehb-coordinator.sbatch')],
      { cwd: work, env: { ...env, DEHB_CANCEL_AFTER: `${sched} ${workers}` } },
    );
    submitted.push(coord);

    const states = await waitForJobs([coord], JOB_TIMEOUT_MS, () => dumpOutputs(work));
    assert.equal(states.get(coord), 'COMPLETED', `coordinator job ended ${states.get(coord)}\n${await dumpOutputs(work)}`);
    // DEHB_CANCEL_AFTER stops the scheduler and the workers once the run is over.
    const rest = await waitForJobs([sched, workers], 60_000, () => dumpOutputs(work));
    for (const [job, state] of rest) assert.ok(['CANCELLED', 'COMPLETED'].includes(state), `job ${job} ended ${state}`);

    assertHistory(await readHistory(output));
    const seen = await readSeen(seenFile);
    assertPinnedToSlurmGpus(seen);
    for (const s of seen) {
      assert.ok(s.arrayTask === '1' || s.arrayTask === '2', `trial ${s.trialId} ran in a worker array task (${s.arrayTask})`);
      assert.equal(s.jobGpus?.split(',').length, 2, `each array task got 2 GPUs (${s.jobGpus})`);
    }
  });
});
