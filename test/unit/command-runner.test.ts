// The command runner with real child processes: placeholders, environment, stdin, result file vs
// DEHB_RESULT line, logs, exit codes and signals, reports, and process-group kills.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, isDead } from '../helpers/processes.js';
import { checkCommandExists, runCommand } from '../../src/cluster/command-runner.js';
import { PYTHON_HELPER_DIR } from '../../src/cluster/command-env.js';
import type { EvalOutcome, EvalTask } from '../../src/protocol/executor.js';
import { isDehbError } from '../../src/errors.js';
import { conformanceFixtures as fx } from '../conformance/executor.conformance.js';

const tmp = mkdtempSync(join(tmpdir(), 'dehb-cmd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let id = 1;
function nodeTask(script: string, over: Partial<EvalTask> = {}, extraArgs: string[] = []): EvalTask {
  return {
    v: 1,
    runId: 'cmd',
    trialId: id++,
    config: { lr: 0.25, act: 'relu' },
    fidelity: 3,
    objective: { kind: 'command', argv: [process.execPath, '-e', script, ...extraArgs] },
    timeoutMs: null,
    gpus: 0,
    ...over,
  };
}

function fixtureTask(config: EvalTask['config'], over: Partial<EvalTask> = {}): EvalTask {
  return { v: 1, runId: 'cmd', trialId: id++, config, fidelity: 1, objective: fx.command, timeoutMs: null, gpus: 0, ...over };
}

function message(o: EvalOutcome): string {
  assert.equal(o.status, 'failed', JSON.stringify(o));
  return o.status === 'failed' ? o.error.message : '';
}


describe('command runner', { timeout: 60_000 }, () => {
  it('substitutes placeholders and builds the environment without touching process.env', async () => {
    const before = { ...process.env };
    const script = `
      const t = JSON.parse(process.env.DEHB_TRIAL);
      console.log('DEHB_RESULT ' + JSON.stringify({ fitness: 1, info: {
        argv: process.argv.slice(1), t,
        fid: process.env.DEHB_FIDELITY, dir: process.env.DEHB_TRIAL_DIR, rf: process.env.DEHB_RESULT_FILE,
        tid: process.env.DEHB_TRIAL_ID, cuda: process.env.CUDA_VISIBLE_DEVICES, order: process.env.CUDA_DEVICE_ORDER,
        py: process.env.PYTHONPATH, mine: process.env.MINE } }));`;
    const task = nodeTask(script, { objective: {
      kind: 'command',
      argv: [process.execPath, '-e', script, '--', '--lr={lr}', '{fidelity}', '{trial_id}', '{config_json}', '{momentum}', '{act}-x'],
      env: { MINE: 'yes' },
    } });
    const out = await runCommand(task, { devices: ['GPU-aaa', '3'] });
    assert.equal(out.status, 'ok', JSON.stringify(out));
    if (out.status !== 'ok') return;
    const info = out.info as Record<string, unknown>;
    // {momentum} is not in this trial's config (an inactive conditional parameter): left out
    assert.deepEqual(info.argv, ['--lr=0.25', '3', String(task.trialId), '{"lr":0.25,"act":"relu"}', 'relu-x']);
    const t = info.t as Record<string, unknown>;
    assert.deepEqual([t.trialId, t.runId, t.config, t.fidelity, t.devices], [task.trialId, 'cmd', task.config, 3, ['GPU-aaa', '3']]);
    assert.equal(info.fid, '3');
    assert.equal(info.tid, String(task.trialId));
    assert.equal(info.rf, join(String(info.dir), 'result.json'));
    assert.equal(info.cuda, 'GPU-aaa,3');
    assert.equal(info.order, 'PCI_BUS_ID');
    assert.ok(String(info.py).split(':').includes(PYTHON_HELPER_DIR));
    assert.equal(info.mine, 'yes');
    assert.equal(existsSync(String(info.dir)), false, 'temporary trial dir is removed');
    assert.deepEqual({ ...process.env }, before);
  });

  it('feeds the trial on stdin', async () => {
    const out = await runCommand(fixtureTask({ mode: 'number', x: 6, via: 'stdin' }));
    assert.equal(out.status === 'ok' && out.fitness, 6);
  });

  it('prefers the result file over a DEHB_RESULT line, and reads the last line', async () => {
    const both = await runCommand(nodeTask(`
      require('fs').writeFileSync(process.env.DEHB_RESULT_FILE, '{"fitness": 1, "cost": 2}');
      console.log('DEHB_RESULT {"fitness": 5}');`));
    assert.deepEqual(both.status === 'ok' && [both.fitness, both.cost], [1, 2]);
    const last = await runCommand(nodeTask(`console.log('DEHB_RESULT {"fitness": 5}\\nnoise\\nDEHB_RESULT 7\\r');`));
    assert.equal(last.status === 'ok' && last.fitness, 7);
  });

  it('saves stdout/stderr in trialDir and ignores a stale result file', async () => {
    const trialDir = join(tmp, 'trial-logs', 'deep');
    const first = await runCommand(nodeTask(`require('fs').writeFileSync(process.env.DEHB_RESULT_FILE, '99')`, { trialDir }));
    assert.equal(first.status === 'ok' && first.fitness, 99);
    const out = await runCommand(nodeTask(`console.log('hello out'); console.error('hello err'); console.log('DEHB_RESULT 1')`, { trialDir }));
    assert.equal(out.status === 'ok' && out.fitness, 1);
    assert.match(readFileSync(join(trialDir, 'stdout.log'), 'utf8'), /hello out\nDEHB_RESULT 1/);
    assert.equal(readFileSync(join(trialDir, 'stderr.log'), 'utf8'), 'hello err\n');
  });

  it('non-zero exit -> failed with the code and the stderr tail; 75 is retryable', async () => {
    const out = await runCommand(nodeTask(`console.error('line1'); console.error('Traceback: it broke'); process.exit(3)`));
    assert.match(message(out), /exited with code 3; last stderr lines:\nline1\nTraceback: it broke/);
    assert.equal(out.status === 'failed' && out.retryable, false);
    const retry = await runCommand(nodeTask(`process.exit(75)`));
    assert.equal(retry.status === 'failed' && retry.retryable, true);
  });

  it('death by a signal -> failed naming the signal', async () => {
    const out = await runCommand(nodeTask(`console.error('allocating'); process.kill(process.pid, 'SIGKILL')`));
    assert.match(message(out), /killed by SIGKILL \(often the out-of-memory killer/);
    assert.match(message(out), /allocating/);
  });

  it('missing or malformed results -> failed with the fix', async () => {
    assert.match(message(await runCommand(nodeTask(`console.log('done')`))), /reported no result: write JSON \{"fitness": <number>\} to \$DEHB_RESULT_FILE/);
    assert.match(message(await runCommand(nodeTask(`console.log('DEHB_RESULT {oops')`))), /DEHB_RESULT line is not valid JSON/);
    assert.match(message(await runCommand(nodeTask(`console.log('DEHB_RESULT {"fitness": NaN}')`))), /NaN/);
    assert.match(message(await runCommand(nodeTask(`console.log('DEHB_RESULT {"loss": 1}')`))), /no numeric `fitness`.*name the value `fitness`/);
  });

  it('a command that does not exist -> failed; checkCommandExists fails early', async () => {
    const out = await runCommand({ ...nodeTask(''), objective: { kind: 'command', argv: ['dehb-no-such-command-xyz', 'a'] } });
    assert.match(message(out), /objective command not found: 'dehb-no-such-command-xyz' is not on PATH/);
    const rel = await runCommand({ ...nodeTask(''), objective: { kind: 'command', argv: ['./nope.sh'] } });
    assert.match(message(rel), /objective command not found: \.\/nope\.sh/);
    await assert.rejects(checkCommandExists('dehb-no-such-command-xyz'), (e: unknown) => isDehbError(e, 'E_CONFIG') && /not on PATH/.test(e.message));
    assert.equal(await checkCommandExists('node', { env: { PATH: '/usr/bin:' + process.env.PATH } }).then(() => true), true);
    const script = join(tmp, 'not-exec.sh');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o644);
    await assert.rejects(checkCommandExists(script), (e: unknown) => isDehbError(e, 'E_CONFIG') && /not executable/.test(e.message));
    await assert.rejects(checkCommandExists('./not-exec.sh', { cwd: tmp }), /not executable/);
    const cwdMissing = await runCommand({ ...nodeTask(''), objective: { kind: 'command', argv: ['node'], cwd: join(tmp, 'nope') } });
    assert.match(message(cwdMissing), /objective.cwd is not a directory/);
  });

  it('timeout kills the whole process group, grandchildren included', async () => {
    const pidFile = join(tmp, 'gc-timeout.pid');
    // the timeout must fire after the child has started its grandchild: a loaded machine took
    // more than 500 ms to start node and run the fixture that far
    const out = await runCommand(fixtureTask({ mode: 'grandchild', pidFile }, { timeoutMs: 5_000 }), { killGraceMs: 500 });
    assert.deepEqual(out.status === 'timed-out' && out.timeoutMs, 5_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0);
    assert.ok(await eventually(() => isDead(pid)), `grandchild ${pid} survived the timeout`);
  });

  it('abort kills the whole process group', async () => {
    const pidFile = join(tmp, 'gc-abort.pid');
    const ac = new AbortController();
    const p = runCommand(fixtureTask({ mode: 'grandchild', pidFile }), { signal: ac.signal, killGraceMs: 500 });
    assert.ok(await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== ''));
    ac.abort('stop');
    const out = await p;
    assert.deepEqual(out.status === 'cancelled' && out.reason, 'stop');
    assert.ok(await eventually(() => isDead(Number(readFileSync(pidFile, 'utf8')))));
  });

  it('a child that ignores SIGTERM gets SIGKILL after the grace', async () => {
    const out = await runCommand(
      nodeTask(`process.on('SIGTERM', () => console.error('ignoring TERM')); setInterval(() => {}, 1000)`, { timeoutMs: 200 }),
      { killGraceMs: 300 },
    );
    assert.equal(out.status, 'timed-out');
    assert.ok(out.worker?.pid !== undefined && (await eventually(() => isDead(out.worker?.pid ?? 0))));
  });

  it('leftover grandchildren of a finished evaluation are terminated', async () => {
    const pidFile = join(tmp, 'gc-left.pid');
    const out = await runCommand(
      nodeTask(`const g = require('child_process').spawn('sleep', ['60'], { stdio: 'ignore' });
        require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));
        console.log('DEHB_RESULT 2'); process.exit(0);`),
      { killGraceMs: 300 },
    );
    assert.equal(out.status === 'ok' && out.fitness, 2);
    assert.ok(await eventually(() => isDead(Number(readFileSync(pidFile, 'utf8')))));
  });

  it('streams DEHB_REPORT lines to onReport and skips malformed ones', async () => {
    const reports: Array<[number, number]> = [];
    const out = await runCommand(
      nodeTask(`console.log('DEHB_REPORT {"step":1,"value":0.5}\\nDEHB_REPORT nope\\nDEHB_REPORT {"step":2,"value":0.25}\\nDEHB_RESULT 0.25')`),
      { onReport: (s, v) => reports.push([s, v]) },
    );
    assert.equal(out.status, 'ok');
    assert.deepEqual(reports, [[1, 0.5], [2, 0.25]]);
  });

  it('shell mode quotes substituted values', async () => {
    const task: EvalTask = {
      ...nodeTask(''),
      config: { s: `a b'c; echo DEHB_RESULT 666`, x: 1.5 },
      objective: { kind: 'command', argv: [`test {s} = "a b'c; echo DEHB_RESULT 666" && echo DEHB_RESULT {x}`], shell: true },
    };
    const out = await runCommand(task);
    assert.equal(out.status === 'ok' && out.fitness, 1.5, JSON.stringify(out));
  });

  it('an already-aborted signal does not spawn', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = await runCommand(nodeTask(`require('fs').writeFileSync(${JSON.stringify(join(tmp, 'ran'))}, '1')`), { signal: ac.signal });
    assert.equal(out.status, 'cancelled');
    assert.equal(existsSync(join(tmp, 'ran')), false);
  });
});
