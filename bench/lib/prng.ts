/**
 * Seeded pseudo-random numbers owned by the benchmarks (never Math.random): xoshiro128** seeded
 * through splitmix32, plus a stable hash of numeric vectors used to derive per-(seed, fidelity,
 * config) noise streams. Independent of src/dehb/rng.ts on purpose, so that the optimizer's and the
 * benchmark's random streams can never interfere.
 */
import { DehbError } from '../../src/errors.js';

/** splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/** murmur3 fmix32 finaliser. */
function fmix32(h: number): number {
  let z = h | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded generator. `seed` is the integer it was created from (kept for derived streams). */
export class Prng {
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` may be any finite number; additional words are mixed in (e.g. a hash). */
  constructor(seed: number, ...extraWords: number[]) {
    if (!Number.isFinite(seed)) throw new DehbError('E_CONFIG', `seed must be a finite number (got ${seed})`);
    this.seed = seed;
    let st = 0x2545f491;
    for (const w of [Math.floor(seed / 4294967296), seed >>> 0, ...extraWords.map((x) => x >>> 0)]) {
      st = fmix32(st ^ (w | 0)) | 0;
      st = (st + Math.imul(w | 0, 0x27d4eb2d)) | 0;
    }
    let out: number;
    [st, out] = splitmix32(st);
    this.s0 = out;
    [st, out] = splitmix32(st);
    this.s1 = out;
    [st, out] = splitmix32(st);
    this.s2 = out;
    [st, out] = splitmix32(st);
    this.s3 = out;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next unsigned 32-bit integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new DehbError('E_CONFIG', `n must be a positive integer (got ${n})`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal deviate (Box–Muller, one value per call). */
  normal(): number {
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * Stable 2×32-bit hash of a numeric vector (bit pattern of each float64; -0 is folded into 0 so
 * that equal numbers hash equally). Returns two unsigned words.
 */
export function hashVector(values: readonly number[]): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ values.length;
  for (const raw of values) {
    const x = raw === 0 ? 0 : raw;
    scratch.setFloat64(0, x);
    const a = scratch.getUint32(0);
    const b = scratch.getUint32(4);
    h1 = fmix32(h1 ^ a) ^ Math.imul(b, 0x9e3779b1);
    h2 = fmix32((h2 + b) | 0) ^ Math.imul(a, 0x85ebca77);
  }
  return [fmix32(h1 ^ h2), fmix32((h2 + Math.imul(h1, 0x27d4eb2f)) | 0)];
}

/**
 * Derive `count` run seeds (integers in [0, 2^31)) deterministically from a master seed, the way
 * the reference protocol derives its 5 run seeds from master seed 0 (different generator, same idea).
 */
export function deriveSeeds(masterSeed: number, count: number): number[] {
  const rng = new Prng(masterSeed, 0x5eed5eed);
  const seeds: number[] = [];
  for (let i = 0; i < count; i++) seeds.push(rng.nextUint32() >>> 1);
  return seeds;
}
