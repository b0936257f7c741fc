// Conformance of the local backend: module objectives on a piscina pool of 2 real threads.
import { LocalExecutor } from '../../src/cluster/local/local-executor.js';
import { runExecutorConformance } from './executor.conformance.js';

runExecutorConformance('local (piscina, 2 threads)', (fx) => ({ executor: new LocalExecutor({ nWorkers: 2 }), objective: fx.module }));
