// The coordinator's batch jobs (src/cluster/bullmq/batches.ts), pure parts: the auto rule for
// trials per job (K = 1 until measured and while trials are long against the per-job overhead,
// never fewer than two jobs per worker slot, at most 16), packing (balanced sizes, retries and trials
// going singly never packed), the one schema for batch jobs and outcomes, the option's check, and
// fair share counting a batch of k as k jobs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTO_MAX_TRIALS_PER_JOB, BatchBook, BatchSizer } from '../../src/cluster/bullmq/batches.js';
import { PendingTable } from '../../src/cluster/bullmq/pending.js';
import { checkTrialsPerJob } from '../../src/cluster/bullmq/executor-options.js';
import { FairShare } from '../../src/cluster/bullmq/fair-share.js';
import { parseBatchOutcome, parseJob } from '../../src/protocol/wire.js';
import { isDehbError } from '../../src/errors.js';
import type { Redis } from '../../src/redis/connection.js';
import type { EvalTask } from '../../src/protocol/executor.js';

const task = (trialId: number, runId = 'r'): EvalTask => ({ v: 1, runId, trialId, config: { x: 1 }, fidelity: 1, objective: { kind: 'module', path: '/o.mjs' }, timeoutMs: null, gpus: 0 });

describe('batch jobs: the auto rule', () => {
  it('K = 1 until completions are measured and while the slots are unknown', () => {
    const s = new BatchSizer('auto');
    assert.equal(s.k(64), 1);
    s.slots = 8;
    assert.equal(s.k(64), 1, 'nothing measured yet');
    const t = new BatchSizer('auto');
    t.observe(100, 1, 1);
    assert.equal(t.k(64), 1, 'slots unknown');
  });

  it('K = 1 while a trial is 10x longer than the per-job overhead; grows as trials get shorter', () => {
    const s = new BatchSizer('auto');
    s.slots = 1;
    s.observe(55, 50, 1); // 5 ms overhead, 50 ms trials
    assert.equal(s.k(100), 1);
    const short = new BatchSizer('auto');
    short.slots = 1;
    short.observe(6, 1, 1); // 5 ms overhead, 1 ms trials
    assert.equal(short.k(100), AUTO_MAX_TRIALS_PER_JOB, 'capped');
    const mid = new BatchSizer('auto');
    mid.slots = 1;
    mid.observe(15, 10, 1); // 5 ms overhead, 10 ms trials: overhead <= 10% of 5 trials
    assert.equal(mid.k(100), 5);
  });

  it('never fewer than two jobs per worker slot (one running, one queued behind it)', () => {
    const s = new BatchSizer('auto');
    s.observe(6, 1, 1);
    s.slots = 8;
    assert.equal(s.k(64), 4);
    assert.equal(s.k(32), 2);
    assert.equal(s.k(16), 1);
    assert.equal(s.k(7), 1);
    s.slots = 64;
    assert.equal(s.k(64), 1);
  });

  it('a batch of n reports its run time for n trials', () => {
    const s = new BatchSizer('auto');
    s.slots = 1;
    s.observe(40, 32, 16); // 8 ms overhead, 2 ms trials
    assert.equal(s.k(100), AUTO_MAX_TRIALS_PER_JOB);
  });

  it('an explicit K is used as given', () => {
    assert.equal(new BatchSizer(4).k(1), 4);
  });

  it('trialsPerJob must be auto or an integer 1..256, naming the key', () => {
    assert.equal(checkTrialsPerJob(undefined), 'auto');
    assert.equal(checkTrialsPerJob(7), 7);
    for (const bad of [0, 257, 1.5, 'many', -1]) {
      assert.throws(() => checkTrialsPerJob(bad, '--trials-per-job'), (e: unknown) => isDehbError(e, 'E_CONFIG') && /--trials-per-job must be "auto" or an integer from 1 to 256/.test((e as Error).message));
    }
  });
});

describe('batch jobs: packing', () => {
  const entries = (ids: number[]) => {
    const t = new PendingTable();
    return ids.map((id) => t.create(`r-${id}`, task(id), {}));
  };

  it('packs into balanced jobs of at most K; one left over goes singly', () => {
    const book = new BatchBook('r');
    const { singles, batches } = book.pack(entries(Array.from({ length: 17 }, (_, i) => i)), 16);
    assert.deepEqual(batches.map((b) => b.members.size), [9, 8]);
    assert.equal(singles.length, 0);
    assert.match(batches[0]?.id ?? '', /^r-0\.b[0-9a-z]+$/);
    assert.notEqual(batches[0]?.id, batches[1]?.id);
    const one = book.pack(entries([40]), 16);
    assert.equal(one.batches.length, 0);
    assert.equal(one.singles.length, 1);
  });

  it('retries and trials that go singly are never packed', () => {
    const book = new BatchBook('r');
    const t = new PendingTable();
    const retry = t.create('r-1.r2', task(1), {});
    const single = t.create('r-2', task(2), {});
    single.single = true;
    const { singles, batches } = book.pack([retry, single, ...entries([3, 4])], 4);
    assert.deepEqual(singles.map((e) => e.jobId), ['r-1.r2', 'r-2']);
    assert.deepEqual(batches.map((b) => [...b.members.keys()]), [[3, 4]]);
  });

  it('the batch job goes when its last member is recorded or goes singly', () => {
    const book = new BatchBook('r');
    const [a, b] = entries([1, 2]);
    const { batches } = book.pack([a!, b!], 2);
    assert.equal(book.recorded('r-1')?.done, false);
    assert.equal(book.detach(b!), true, 'nothing left to record');
    assert.equal(book.get(batches[0]!.id), undefined);
  });

  it('a resumed trial re-attaches once to the batch an earlier coordinator recorded, knowing all its members', () => {
    const book = new BatchBook('r');
    book.setResumeMap(new Map([['r-1', 'r-1.bx0'], ['r-2', 'r-1.bx0'], ['r-3', 'r-3.bx1']]));
    const b = book.resumed('r-1');
    assert.equal(b?.id, 'r-1.bx0');
    assert.deepEqual([...(b?.unrecorded ?? [])].sort(), ['r-1', 'r-2']);
    assert.equal(book.resumed('r-2'), b, 'the same batch');
    assert.equal(book.resumed('r-1'), undefined, 'once: a second submit goes singly');
  });
});

describe('batch jobs: the wire schema', () => {
  it('accepts a batch of one run; refuses another run, a duplicate, too many', () => {
    const ok = parseJob({ v: 1, runId: 'r', batch: [task(1), task(2)] });
    assert.ok(ok.ok && ok.value.batch && ok.value.tasks.length === 2);
    const other = parseJob({ v: 1, runId: 'r', batch: [task(1), task(2, 's')] });
    assert.ok(!other.ok && /batch\.1\.runId: is "s", not the job's run "r"/.test(other.message));
    const dup = parseJob({ v: 1, runId: 'r', batch: [task(1), task(1)] });
    assert.ok(!dup.ok && /trial 1 is in the job twice/.test(dup.message));
    const big = parseJob({ v: 1, runId: 'r', batch: Array.from({ length: 257 }, (_, i) => task(i)) });
    assert.ok(!big.ok && /at most 256/.test(big.message));
    const v2 = parseJob({ v: 2, runId: 'r', batch: [task(1)] });
    assert.ok(!v2.ok && /version/.test(v2.message));
  });

  it('a batch outcome: per trial an outcome or handedBack; one outcome for the whole job is accepted too', () => {
    const p = parseBatchOutcome({ batch: [{ trialId: 1, outcome: { status: 'ok', fitness: 2 } }, { trialId: 2, handedBack: true }] });
    assert.ok(p.ok && 'batch' in p.value && p.value.batch.length === 2);
    const whole = parseBatchOutcome({ status: 'failed', retryable: false, error: { name: 'E', message: 'refused' } });
    assert.ok(whole.ok && !('batch' in whole.value));
    const bad = parseBatchOutcome({ batch: [{ trialId: 1, outcome: { status: 'ok' } }] });
    assert.ok(!bad.ok && /invalid batch outcome/.test(bad.message));
  });
});

describe('batch jobs: fair share', () => {
  it('a batch of k advances its run by k/weight: another run gets k jobs in between', () => {
    const fair = new FairShare(undefined as unknown as Redis, 'k', 1);
    assert.equal(fair.next(4), 1);
    assert.equal(fair.next(), 5);
    const heavy = new FairShare(undefined as unknown as Redis, 'k', 2);
    assert.equal(heavy.next(4), 1);
    assert.equal(heavy.next(), 3);
  });
});
