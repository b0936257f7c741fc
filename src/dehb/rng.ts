/**
 * Owns the seeded PRNG of the optimizer: xoshiro128** seeded through splitmix32. The state is four
 * unsigned 32-bit words (plus a cached normal deviate), i.e. plain JSON that lives inside
 * DehbState.rng; every draw mutates that object in place and is deterministic bit for bit.
 */
import type { RngState } from './types.js';

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

function splitmix32(x: number): number {
  let t = x ^ (x >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return t >>> 0;
}

/** A fresh generator for an integer seed (any safe integer; high bits are mixed in too). */
export function createRng(seed: number): RngState {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer (got ${seed})`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  let x = (lo ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
  const s: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    s[i] = splitmix32(x);
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return { s, spare: null };
}

/** A deep copy (the state is plain numbers). */
export function cloneRng(rng: RngState): RngState {
  return { s: [rng.s[0], rng.s[1], rng.s[2], rng.s[3]], spare: rng.spare ?? null };
}

/** Next raw unsigned 32-bit word (xoshiro128**). */
export function nextUint32(rng: RngState): number {
  const s = rng.s;
  const s0 = s[0];
  const s1 = s[1];
  const s2 = s[2];
  const s3 = s[3];
  const m = Math.imul(s1, 5);
  const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
  const t = s1 << 9;
  let n2 = s2 ^ s0;
  let n3 = s3 ^ s1;
  const n1 = s1 ^ n2;
  const n0 = s0 ^ n3;
  n2 ^= t;
  n3 = (n3 << 11) | (n3 >>> 21);
  s[0] = n0 >>> 0;
  s[1] = n1 >>> 0;
  s[2] = n2 >>> 0;
  s[3] = n3 >>> 0;
  return result;
}

/** Uniform double in [0, 1) with 53 random bits (two words). */
export function uniform(rng: RngState): number {
  const a = nextUint32(rng) >>> 5;
  const b = nextUint32(rng) >>> 6;
  return (a * TWO_POW_26 + b) / TWO_POW_53;
}

/** Uniform integer in [0, n) for an integer n >= 1. */
export function randInt(rng: RngState, n: number): number {
  if (!(n >= 1)) throw new RangeError(`randInt needs n >= 1 (got ${n})`);
  return Math.floor(uniform(rng) * n);
}

/** Standard normal deviate (Box–Muller, the second deviate is cached in the state). */
export function normal(rng: RngState): number {
  const spare = rng.spare;
  if (spare !== undefined && spare !== null) {
    rng.spare = null;
    return spare;
  }
  let u = 0;
  while (u === 0) u = uniform(rng);
  const v = uniform(rng);
  const r = Math.sqrt(-2 * Math.log(u));
  const theta = 2 * Math.PI * v;
  const z1 = r * Math.sin(theta);
  rng.spare = z1 === 0 ? 0 : z1;
  const z0 = r * Math.cos(theta);
  return z0 === 0 ? 0 : z0;
}

/** k distinct indices from [0, n), in draw order (uniform without replacement). */
export function sampleDistinct(rng: RngState, n: number, k: number): number[] {
  if (!(k >= 0) || k > n) throw new RangeError(`cannot draw ${k} distinct items from ${n}`);
  if (k * 2 <= n) {
    const out: number[] = [];
    while (out.length < k) {
      const i = randInt(rng, n);
      if (!out.includes(i)) out.push(i);
    }
    return out;
  }
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + randInt(rng, n - i);
    const tmp = idx[i];
    idx[i] = idx[j];
    idx[j] = tmp;
  }
  return idx.slice(0, k);
}

/** Fisher–Yates shuffle of `items` in place; returns it. */
export function shuffle<T>(rng: RngState, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}
