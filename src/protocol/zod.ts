/**
 * Owns loading zod. The first schema used loads it (synchronously, through its CommonJS build),
 * not the import of a module that defines schemas: a command or a library call that checks no
 * untrusted input (a fresh local `dehb run`, `import { DEHB } from 'dehb'`) does not pay for zod's
 * ~95 modules at start-up. Every schema module builds its schemas with `lazily` and imports zod's
 * types only (`import type`), so one zod instance serves them all; the import check keeps that.
 */
import { createRequire } from 'node:module';
import type { z } from 'zod';

/** The `z` namespace of zod. */
export type Zod = typeof z;

const requireZod = createRequire(import.meta.url);
let zod: Zod | null = null;

function loadZod(): Zod {
  return (zod ??= (requireZod('zod') as { z: Zod }).z);
}

/** `build(z)` runs at the first call of the returned function; every call returns what it built. */
export function lazily<T>(build: (z: Zod) => T): () => T {
  let built: { value: T } | null = null;
  return () => (built ??= { value: build(loadZod()) }).value;
}
