/**
 * Owns the `KeyList` type: every key of an options type, so the compiler keeps a list of known
 * keys complete (`{ a: true, b: true }`). The unknown-key check (src/unknown-keys.ts) reads such
 * lists; it lives here because the pure optimizer's options declare one too.
 */

/** Every key of T, so the compiler makes a list of known keys complete: `{ a: true, b: true }`. */
export type KeyList<T> = { readonly [K in keyof Required<T>]: true };
