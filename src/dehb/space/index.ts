/** Public surface of the search-space module (named re-exports). */
export { parseSpace, inDomain, describeDomain } from './parse-space.js';
export { encode, encodeValue } from './encode.js';
export { decode, decodeValue } from './decode.js';
export { sampleVector, sampleConfig } from './sample.js';
export { validateConfig } from './validate-config.js';
export { param, defineSpace } from './builder.js';
export type { ConfigOf, ValueOf, NumericParamOptions, ChoiceParamOptions } from './builder.js';
export { compileSpace, roundHalfEven } from './compile.js';
export type { CompiledSpace, CompiledParam } from './compile.js';
export { toConfigSpace } from './configspace-write.js';
export { isConfigSpaceJson } from './configspace-read.js';
export { forbiddenClauses, isForbiddenVector, repairForbidden } from './forbidden.js';
export { sampleSpaceVector } from './sample.js';
