/**
 * The flags that state a run's optimization, shared by `dehb run` and `dehb study create` (the
 * same keys as a run config file, which run-config.ts reads): search space, objective, fidelity
 * range, DE and Hyperband options, seed.
 */
import type { Command } from 'commander';

export function addOptimizerOptions(cmd: Command): Command {
  return cmd
    .option('--space <file>', 'search space JSON file')
    .option('--objective <module>', 'objective module (.js/.mjs), optionally module#exportName')
    .option('--export-name <name>', 'named export of the objective module (default: objective)')
    .option('--command <cmd>', 'command objective, e.g. "python train.py --lr {lr} --epochs {fidelity}"')
    .option('--min-fidelity <n>', 'lowest fidelity (e.g. epochs)')
    .option('--max-fidelity <n>', 'highest fidelity')
    .option('--eta <n>', 'Hyperband reduction factor (default 3)')
    .option('--strategy <name>', 'DE strategy, e.g. rand1_bin (default), currenttobest1_exp')
    .option('--mutation-factor <f>', 'DE scale factor F (default 0.5)')
    .option('--crossover-prob <p>', 'DE crossover rate CR (default 0.5)')
    .option('--boundary-fix <kind>', 'random (default) | clip')
    .option('--schedule <kind>', "sync (default, the reference's) | async (ASHA-style promotions)")
    .option('--fidelity-type <type>', 'float (default) | int: the objective gets the ladder rounded to integers (epochs)')
    .option('--incumbent <rule>', 'any-fidelity (default, as the reference) | max-fidelity: only results at --max-fidelity count')
    .option('--seed <n>', 'integer seed (default: random, recorded in the journal)');
}
