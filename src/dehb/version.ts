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
 * 3. Parallel runs: a DE trial told while other jobs are in flight that loses to its parent slot
 *    but beats its rung's worst member takes that member's slot, and one equal to another slot's
 *    member takes none (src/dehb/selection.ts).
 *    Sequential runs ask exactly what version 2 asked.
 */
export const OPTIMIZER_VERSION = 3;
