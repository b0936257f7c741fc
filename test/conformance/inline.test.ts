// Conformance of the inline backend: module objectives and a JS function objective, in-process.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InlineExecutor } from '../../src/cluster/inline/inline-executor.js';
import type { ObjectiveFn } from '../../src/objective.js';
import { FIXTURE_DIR, runExecutorConformance } from './executor.conformance.js';

const { behave } = (await import(pathToFileURL(join(FIXTURE_DIR, 'behaviours.mjs')).href)) as { behave: ObjectiveFn };

runExecutorConformance('inline (module)', (fx) => ({ executor: new InlineExecutor(), objective: fx.module }));
runExecutorConformance('inline (function, capacity 2)', () => ({
  executor: new InlineExecutor({ objective: behave, capacity: 2 }),
  objective: { kind: 'function', name: 'behave' },
}));
