/**
 * End-of-run summary: the incumbent config and counts on stderr, or one JSON object on stdout
 * with --json.
 */
import type { RunResult } from '../api/dehb.js';

export function printRunSummary(result: RunResult, opts: { output: string; json: boolean; runId: string }): void {
  const counts = result.trials;
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({
        event: 'summary',
        runId: opts.runId,
        output: opts.output,
        stopReason: result.stopReason,
        elapsedMs: result.elapsedMs,
        trials: counts,
        incumbent: result.incumbent,
      }) + '\n',
    );
    return;
  }
  const lines = [
    '',
    `run ${opts.runId} finished (${result.stopReason}) in ${(result.elapsedMs / 1000).toFixed(1)}s`,
    `trials: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`,
  ];
  if (result.incumbent === null) lines.push('no successful trial yet');
  else {
    const inc = result.incumbent;
    lines.push(`incumbent: fitness ${inc.fitness} at fidelity ${Number(inc.fidelity.toPrecision(6))} (trial ${inc.trialId})`);
    for (const [k, v] of Object.entries(inc.config)) lines.push(`  ${k} = ${JSON.stringify(v)}`);
  }
  lines.push(`run directory: ${opts.output}`);
  process.stderr.write(lines.join('\n') + '\n');
}
