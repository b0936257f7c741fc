/**
 * Reading never blocks or disturbs a running study: `dehb trials`, `study show` and `study list`
 * run over and over while a `dehb optimize` child works, on both storages. And bad journals: a
 * corrupted entry in the middle is a clear error naming the file and line (or the Redis entry),
 * a torn last line is tolerated and repaired by the next append.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startCli } from '../helpers/cli.js';
import { journalOf, makeStorage, REDIS, runMain, toldIds } from './study-helpers.js';

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] concurrent readers while a study runs`, async () => {
    const ts = await makeStorage(kind);
    try {
      const env = { DEHB_STORAGE: ts.url, EVAL_SLEEP_MS: '60', DEHB_TRIALS_DIR: join(ts.dir, 'trials') };
      const c = await runMain(['study', 'create', 'busy', '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(ts.dir, 'objective.mjs')], env);
      assert.equal(c.code, 0, c.stderr);
      const N = 24;
      const run = startCli(['optimize', 'busy', '--fevals', String(N), '-n', '2', '--json'], { env });
      let finished = false;
      void run.done.then(() => (finished = true));
      const seen: number[] = [];
      let sawUnfinished = false;
      while (!finished) {
        const t = await runMain(['trials', 'busy', '--format', 'json'], env);
        assert.equal(t.code, 0, t.stderr);
        const trials = JSON.parse(t.stdout) as Array<{ status: string }>;
        const done = trials.filter((x) => x.status === 'ok').length;
        if (trials.some((x) => x.status === 'queued' || x.status === 'running')) sawUnfinished = true;
        seen.push(done);
        const show = await runMain(['study', 'show', 'busy', '--json'], env);
        assert.equal(show.code, 0, show.stderr);
        assert.ok(JSON.parse(show.stdout).byStatus.ok >= done);
        const list = await runMain(['study', 'list', '--json'], env);
        assert.equal(list.code, 0, list.stderr);
      }
      const r = await run.done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).toldTotal, N);
      assert.ok(seen.length >= 3, `only ${seen.length} reads while running`);
      assert.ok(sawUnfinished, 'a reader saw queued/running trials');
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress only grows');
      const told = toldIds(await journalOf(ts.url, 'busy'));
      assert.equal(new Set(told).size, N);
      assert.equal(told.length, N);
    } finally {
      await ts.cleanup();
    }
  });
}

test('[file] corrupted middle line: error names file and line; torn tail tolerated and repaired', async () => {
  const ts = await makeStorage('file');
  try {
    const env = { DEHB_STORAGE: ts.url };
    await runMain(['study', 'create', 'j', '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(ts.dir, 'objective.mjs')], env);
    assert.equal((await runMain(['optimize', 'j', '--fevals', '3', '-q'], env)).code, 0);
    const path = join(ts.url, 'j', 'journal.jsonl');
    const good = await readFile(path, 'utf8');
    const lines = good.split('\n');
    lines[3] = '{"seq":4,"at":1,"type":"asked","trialId":';
    await writeFile(path, lines.join('\n'));
    for (const args of [['trials', 'j'], ['study', 'show', 'j'], ['optimize', 'j', '--fevals', '5']]) {
      const r = await runMain(args, env);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`dehb: ${path}:4: corrupted journal entry (invalid JSON`), r.stderr);
    }
    // a torn last line (a crash mid-append) is ignored by readers and repaired by the next append
    await writeFile(path, good + '{"seq":99,"at":1,"type":"told","trialId":2,"res');
    const t = await runMain(['trials', 'j', '--format', 'json'], env);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(JSON.parse(t.stdout).length, 3);
    const o = await runMain(['optimize', 'j', '--fevals', '5', '--json'], env);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(JSON.parse(o.stdout).toldTotal, 5);
    const repaired = await readFile(path, 'utf8');
    assert.ok(repaired.endsWith('\n') && !repaired.includes('"res{'), 'torn tail truncated before appending');
    assert.equal(toldIds(await journalOf(ts.url, 'j')).length, 5);
    await appendFile(path, 'garbage without newline');
    assert.equal((await runMain(['trials', 'j'], env)).code, 0);
  } finally {
    await ts.cleanup();
  }
});

test('[redis] corrupted journal entry: error names the study and entry', async () => {
  const ts = await makeStorage('redis');
  const admin = new Redis(REDIS);
  try {
    const env = { DEHB_STORAGE: ts.url };
    await runMain(['study', 'create', 'j', '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(ts.dir, 'objective.mjs')], env);
    assert.equal((await runMain(['optimize', 'j', '--fevals', '2', '-q'], env)).code, 0);
    const prefix = new URL(ts.url).searchParams.get('prefix') as string;
    await admin.lset(`${prefix}study:{j}:journal`, 2, '{"seq":3,"at":1,"type":"started"}');
    const r = await runMain(['trials', 'j'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /study "j": entry 3: corrupted journal entry \(trialId: /);
  } finally {
    await admin.quit();
    await ts.cleanup();
  }
});
