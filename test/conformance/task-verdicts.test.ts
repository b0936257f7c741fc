// One task, one verdict: the local path (inline executor) and the cluster path (coordinator + an
// in-process `dehb worker` on a real Redis) accept and refuse the same tasks with the same message,
// because both check them with the one schema of src/protocol/schemas.ts. Covers the old
// disagreement (timeoutMs 0 ran locally and was refused on the cluster), unknown keys, versions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { startClusterWorker } from '../../src/cluster/bullmq/worker-runtime.js';
import { InlineExecutor } from '../../src/cluster/inline/inline-executor.js';
import type { EvalTask, Executor } from '../../src/protocol/executor.js';
import { cleanupPrefix, sharedConnection, uniquePrefix } from '../fixtures/cluster/redis.js';
import { conformanceFixtures, FIXTURE_DIR } from './executor.conformance.js';

const RUN = 'verdicts';
const quiet = (): void => undefined;

type Verdict = { ran: string } | { refused: string };

let trial = 0;
function task(patch: Record<string, unknown>): EvalTask {
  const base = {
    v: 1,
    runId: RUN,
    trialId: trial++,
    config: { mode: 'number', x: 2.5 },
    fidelity: 1,
    objective: conformanceFixtures.module,
    timeoutMs: null,
    gpus: 0,
  };
  const t: Record<string, unknown> = { ...base, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete t[k];
  return t as unknown as EvalTask;
}

async function verdict(executor: Executor, t: EvalTask): Promise<Verdict> {
  try {
    const out = await executor.submit(t);
    return { ran: out.status === 'ok' ? `ok ${out.fitness}` : out.status };
  } catch (err) {
    return { refused: (err as Error).message };
  }
}

const CASES: Array<{ name: string; patch: Record<string, unknown>; expect: RegExp }> = [
  { name: 'a valid task', patch: {}, expect: /^ok 2\.5$/ },
  { name: 'timeoutMs null (no limit)', patch: { timeoutMs: null }, expect: /^ok 2\.5$/ },
  { name: 'timeoutMs 30000', patch: { timeoutMs: 30_000 }, expect: /^ok 2\.5$/ },
  { name: 'timeoutMs 0', patch: { timeoutMs: 0 }, expect: /invalid task: timeoutMs: must be null \(no limit\) or a number of ms > 0/ },
  { name: 'timeoutMs -5', patch: { timeoutMs: -5 }, expect: /invalid task: timeoutMs: must be null/ },
  { name: 'timeoutMs absent', patch: { timeoutMs: undefined }, expect: /invalid task: timeoutMs: / },
  { name: 'unknown top-level key (dropped)', patch: { priority: 3 }, expect: /^ok 2\.5$/ },
  {
    name: 'unknown objective key (dropped)',
    patch: { objective: { ...conformanceFixtures.module, flavour: 'x' } },
    expect: /^ok 2\.5$/,
  },
  { name: 'version 2', patch: { v: 2 }, expect: /invalid task: v: task version v=2 is not supported; this dehb speaks v=1/ },
  { name: 'version absent', patch: { v: undefined }, expect: /invalid task: v: task version v=undefined is not supported/ },
  { name: 'a runId that is not a safe word', patch: { runId: 'my run/1' }, expect: /invalid task: runId: must be letters, digits/ },
  { name: 'negative trialId', patch: { trialId: -1 }, expect: /invalid task: trialId: / },
  { name: 'fractional gpus', patch: { gpus: 1.5 }, expect: /invalid task: gpus: / },
  { name: 'config with an object value', patch: { config: { mode: { a: 1 } } }, expect: /invalid task: config\.mode: / },
];

describe('local and cluster give a task the same verdict', { timeout: 120_000 }, () => {
  const prefix = uniquePrefix('verdicts');
  const connection = sharedConnection(prefix);
  const local = new InlineExecutor();
  let cluster: Executor | undefined;
  let worker: Awaited<ReturnType<typeof startClusterWorker>> | undefined;

  before(async () => {
    worker = await startClusterWorker({ connection, concurrency: 2, gpus: 'none', allow: [FIXTURE_DIR], graceMs: 200, log: quiet });
    cluster = await createClusterExecutor({ connection, runId: RUN, capacity: 2, log: quiet });
  });
  after(async () => {
    await local.close({ force: true });
    await cluster?.close({ force: true }).catch(() => undefined);
    await worker?.stop({ graceMs: 0 });
    await cleanupPrefix(prefix);
  });

  for (const c of CASES) {
    it(c.name, { timeout: 30_000 }, async () => {
      const t = task(c.patch);
      const here = await verdict(local, t);
      const there = await verdict(cluster as Executor, 'trialId' in c.patch ? t : { ...t, trialId: t.trialId + 1000 });
      const text = 'ran' in here ? here.ran : here.refused;
      assert.match(text, c.expect, JSON.stringify(here));
      // the trial id is part of a refusal message; compare the verdicts without it
      const norm = (v: Verdict): Verdict => ('refused' in v ? { refused: v.refused.replace(/trial \d+/, 'trial N') } : v);
      assert.deepEqual(norm(there), norm(here));
    });
  }
});
