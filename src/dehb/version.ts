/**
 * Owns OPTIMIZER_VERSION: the version of the optimizer's behaviour (what ask() hands out and what
 * tell() does for a given state). Journals record it; a journal written by another version is
 * resumed by re-telling its results instead of re-asking bit for bit (src/study/replay.ts).
 * Bump it with any change that makes ask() or tell() behave differently for the same state.
 */
export const OPTIMIZER_VERSION = 1;
