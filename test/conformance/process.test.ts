// Conformance of the process backend: node command objectives, one child process each.
import { ProcessExecutor } from '../../src/cluster/process/process-executor.js';
import { runExecutorConformance } from './executor.conformance.js';

runExecutorConformance('process (node commands, capacity 2)', (fx) => ({
  executor: new ProcessExecutor({ capacity: 2, killGraceMs: 500 }),
  objective: fx.command,
}));
