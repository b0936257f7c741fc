/**
 * Input files travel with a study (both storages): stored content-hashed at creation, size-capped,
 * materialised into each trial's working directory; a worker runs them only with
 * --accept-study-files, otherwise the worker refuses the study up front (no trial is failed) saying
 * how to allow it. A shipped module
 * objective is imported from the worker's verified file cache.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeStorage, runMain } from './study-helpers.js';

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] input files: shipped, capped, verified, run only when accepted`, async () => {
    const ts = await makeStorage(kind);
    const cwd = process.cwd();
    try {
      process.chdir(ts.dir); // input file names are kept relative to where `study create` runs
      const env = { DEHB_STORAGE: ts.url, DEHB_TRIALS_DIR: join(ts.dir, 'trials') };
      const base = ['--space', 'space.json', '--min-fidelity', '1', '--max-fidelity', '9', '--kind', 'random', '--seed', '1'];
      const big = await runMain(['study', 'create', 'big', ...base, '--command', 'python3 job.py', '--input-file', 'job.py', '--max-file-size', '10'], env);
      assert.equal(big.code, 2);
      assert.match(big.stderr, /job\.py is \d+ bytes, over the 10-byte cap per file/);
      const missing = await runMain(['study', 'create', 'big', ...base, '--command', 'python3 job.py', '--input-file', 'nope.py'], env);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--input-file: .*nope\.py does not exist/);

      const c = await runMain(['study', 'create', 'ship', ...base, '--command', 'python3 job.py', '--input-file', 'job.py'], env);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stderr, /1 input file\(s\)/);
      const show = JSON.parse((await runMain(['study', 'show', 'ship', '--json'], env)).stdout);
      const sha = createHash('sha256').update(await readFile('job.py')).digest('hex');
      assert.deepEqual(show.meta.inputFiles, [{ name: 'job.py', sha256: sha, size: (await readFile('job.py')).length }]);

      const refused = await runMain(['optimize', 'ship', '--fevals', '1', '--json'], env);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /ships input files \(job\.py\); this worker runs shipped files only when started with --accept-study-files/);
      const worker = await runMain(['worker', '--study', 'ship', '--idle-exit', '1s'], env);
      assert.equal(worker.code, 2, worker.stderr);
      assert.match(worker.stderr, /--accept-study-files/);
      const none = JSON.parse((await runMain(['trials', 'ship', '--format', 'json'], env)).stdout) as unknown[];
      assert.equal(none.length, 0, 'no trial was failed for it');

      // the shipped copy is what runs: change the local file, the trial still uses the stored one
      await writeFile('job.py', 'raise SystemExit("local copy must not run")\n');
      const ok = await runMain(['optimize', 'ship', '--fevals', '3', '--accept-study-files', '--json'], env);
      assert.equal(ok.code, 0, ok.stderr);
      const trials = JSON.parse((await runMain(['trials', 'ship', '--format', 'json'], env)).stdout) as Array<{
        trialId: number;
        status: string;
        trialDir: string;
        fitness: number;
        reports: Array<{ value: number }>;
      }>;
      assert.deepEqual(trials.map((t) => t.status), ['ok', 'ok', 'ok']);
      for (const t of trials) {
        assert.equal(createHash('sha256').update(await readFile(join(t.trialDir, 'job.py'))).digest('hex'), sha, 'materialised in the trial dir');
        assert.equal(t.reports.length, 1);
        assert.ok(Number.isFinite(t.fitness));
      }

      // a module objective shipped as an input file is imported from the verified cache
      const m = await runMain(['study', 'create', 'mod', ...base, '--objective', 'objective.mjs', '--input-file', 'objective.mjs'], env);
      assert.equal(m.code, 0, m.stderr);
      const mshow = JSON.parse((await runMain(['study', 'show', 'mod', '--json'], env)).stdout);
      assert.deepEqual(mshow.meta.objective, { kind: 'module', path: 'objective.mjs' });
      const mo = await runMain(['optimize', 'mod', '--fevals', '2', '--accept-study-files', '--json'], env);
      assert.equal(mo.code, 0, mo.stderr);
      const mt = JSON.parse((await runMain(['trials', 'mod', '--format', 'json'], env)).stdout) as Array<{ status: string }>;
      assert.deepEqual(mt.map((t) => t.status), ['ok', 'ok']);
    } finally {
      process.chdir(cwd);
      await ts.cleanup();
    }
  });
}
