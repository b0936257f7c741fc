/**
 * Owns OPTIMIZER_VERSION: the version of the optimizer's behaviour (what ask() hands out and what
 * tell() does for a given state). Journals record it; a journal written by another version is
 * resumed by re-telling its results instead of re-asking bit for bit (src/study/replay.ts).
 * Bump it with any change that makes ask() or tell() behave differently for the same state.
 */
/**
 * Version history:
 * 1. dehb 0.1.0.
 * 2. Parallel runs: first-iteration promotions decided by the job's own bracket, no promotion of a
 *    configuration already in flight to the rung, first rungs started on never-evaluated slots
 *    evolve from the rung below while other jobs are in flight; forbidden clauses repaired and
 *    categorical weights / normal priors sampled (spaces without them draw as before).
 *    Sequential runs without forbiddens/weights/priors ask exactly what version 1 asked.
 */
export const OPTIMIZER_VERSION = 2;
