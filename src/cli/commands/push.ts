/**
 * `dehb push NAME -p lr=0.01 -p act=relu [--fidelity F]`: queue a hand-written configuration,
 * validated against the study's space. It is evaluated before optimizer trials by exactly one
 * worker; with no leader running, push itself turns it into a trial.
 */
import type { Command } from 'commander';
import { collect, note, numFlag, out, parseParams, STORAGE_HELP, withStudy, type StorageFlags } from './study-cli.js';

interface PushFlags extends StorageFlags {
  param: string[];
  fidelity?: string;
  json?: boolean;
}

export function registerPushCommand(program: Command): void {
  program
    .command('push')
    .description('queue a configuration by hand; workers evaluate it before optimizer trials')
    .argument('<name>', 'study name')
    .option('-p, --param <name=value>', 'a parameter value (repeatable); missing parameters are an error', collect, [])
    .option('--fidelity <f>', 'fidelity to evaluate at (default: the maximum)')
    .option('--storage <url>', STORAGE_HELP)
    .option('--json', 'print {"trialId","config","fidelity"} on stdout')
    .action(async (name: string, flags: PushFlags) => {
      const params = parseParams(flags.param);
      const fidelity = numFlag(flags.fidelity, '--fidelity');
      await withStudy(name, flags, async (study) => {
        const r = await study.push(params, fidelity);
        if (flags.json === true) out(JSON.stringify(r));
        note(
          r.trialId === null
            ? `pushed ${JSON.stringify(r.config)} at fidelity ${r.fidelity}; the running leader will hand it out`
            : `pushed ${JSON.stringify(r.config)} at fidelity ${r.fidelity} as trial ${r.trialId}`,
        );
      });
    });
}
