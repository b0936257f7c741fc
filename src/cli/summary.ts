/**
 * End-of-run summary: the incumbent config and counts on stderr, or one JSON object on stdout
 * with --json; when every trial failed it says so with the first error (`dehb run` exits 1).
 */
import type { RunResult } from '../api/dehb.js';
import type { TrialRecord } from '../study/journal-types.js';

export function printRunSummary(result: RunResult, opts: { output: string; json: boolean; runId: string }): void {
  const counts = result.trials;
  // the records are read back from the journal only when no trial succeeded
  const why = allFailed(result) ? allFailedReason(result.history, `dehb show ${opts.output} --status failed`) : null;
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({
        event: 'summary',
        runId: opts.runId,
        output: opts.output,
        stopReason: result.stopReason,
        elapsedMs: result.elapsedMs,
        trials: counts,
        ...(why === null ? {} : { error: why }),
        incumbent: result.incumbent,
      }) + '\n',
    );
    return;
  }
  const lines = [
    '',
    `run ${opts.runId} finished (${result.stopReason}) in ${(result.elapsedMs / 1000).toFixed(result.elapsedMs < 10_000 ? 2 : 1)}s`,
    `trials: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`,
  ];
  if (why !== null) lines.push(why);
  else if (result.incumbent === null) lines.push('no successful trial yet');
  else {
    const inc = result.incumbent;
    lines.push(`incumbent: fitness ${inc.fitness} at fidelity ${Number(inc.fidelity.toPrecision(6))} (trial ${inc.trialId})`);
    for (const [k, v] of Object.entries(inc.config)) lines.push(`  ${k} = ${JSON.stringify(v)}`);
  }
  lines.push(`run directory: ${opts.output}`);
  process.stderr.write(lines.join('\n') + '\n');
}

/** True when trials ended and none succeeded: `dehb run` then exits 1. Reads only the counts. */
export function allFailed(result: Pick<RunResult, 'trials'>): boolean {
  const c = result.trials;
  return (c.ok ?? 0) === 0 && (c.failed ?? 0) + (c['timed-out'] ?? 0) > 0;
}

/**
 * "all 20 trials failed: E_OBJECTIVE boom (first error, trial 3; see <seeAlso>)", or null when
 * no trial ended or one succeeded.
 */
export function allFailedReason(history: readonly TrialRecord[], seeAlso: string): string | null {
  const ended = history.filter((r) => r.status === 'failed' || r.status === 'timed-out' || r.status === 'ok');
  if (ended.length === 0 || ended.some((r) => r.status === 'ok')) return null;
  const first = [...ended].sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || a.trialId - b.trialId)[0] as TrialRecord;
  const what = first.status === 'timed-out' ? 'timed out' : `${first.error?.code ?? 'failed'} ${first.error?.message ?? ''}`.trim();
  return `all ${ended.length} trial${ended.length === 1 ? '' : 's'} failed: ${what} (first error, trial ${first.trialId}${seeAlso === '' ? '' : `; see ${seeAlso}`})`;
}
