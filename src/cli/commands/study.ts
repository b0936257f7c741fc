/**
 * `dehb study create` plus the registration of every study command: `dehb study
 * create|list|show|delete|export|worker`, `dehb optimize`, `dehb push`, `dehb trials`,
 * `dehb trial show` (registerStudyCommands is what main.ts calls).
 */
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import { inFlagWords } from '../flag-words.js';
import { addOptimizerOptions } from '../optimizer-flags.js';
import type { OptimizerKind } from '../../dehb/types.js';
import type { RunFlags } from '../run-config.js';
import { defaultStorageUrl } from '../../study/storage.js';
import { registerOptimizeCommand } from './optimize.js';
import { registerPushCommand } from './push.js';
import { registerTrialCommand, registerTrialsCommand } from './trials.js';
import { collect, note, out, STORAGE_HELP, type StorageFlags } from './study-cli.js';
import { registerStudyManageCommands } from './study-manage.js';
import { registerStudyWorkerCommand } from './study-worker.js';

interface CreateFlags extends RunFlags, StorageFlags {
  kind?: string;
  inputFile: string[];
  maxFileSize?: string;
  skipIfExists?: boolean;
  json?: boolean;
}

const KINDS: readonly OptimizerKind[] = ['dehb', 'random', 'manual'];

export function registerStudyCommands(program: Command): void {
  const study = program.command('study').description('named, persistent studies shared through a storage (directory or Redis)');
  registerStudyCreateCommand(study);
  registerStudyManageCommands(study);
  registerStudyWorkerCommand(study);
  registerOptimizeCommand(program);
  registerPushCommand(program);
  registerTrialsCommand(program);
  registerTrialCommand(program);
}

export function registerStudyCreateCommand(study: Command): void {
  const create = study
    .command('create')
    .description('create a study: search space, fidelity range, optimizer options, objective and input files')
    .argument('<name>', 'study name (letters, digits, _ . -)')
    .option('-c, --config <file>', 'JSON config file as for `dehb run` (flags win over it)');
  addOptimizerOptions(create)
    .option('--kind <kind>', 'dehb (default) | random (random search at max fidelity) | manual (only pushed trials)')
    .option('--trial-timeout <duration>', 'kill an evaluation after this long (recorded timed-out)')
    .option('--input-file <file>', 'file shipped to every worker, materialised in the trial directory (repeatable)', collect, [])
    .option('--max-file-size <bytes>', 'cap per input file (default 52428800 = 50 MiB)')
    .option('--storage <url>', STORAGE_HELP)
    .option('--skip-if-exists', 'do nothing (exit 0) when a study of that name exists')
    .option('--json', 'print {"name","created","storage"} on stdout')
    .action(async (name: string, flags: CreateFlags) => {
      await studyCreate(name, flags);
    });
}

async function studyCreate(name: string, flags: CreateFlags): Promise<void> {
  const kind = (flags.kind ?? 'dehb') as OptimizerKind;
  if (!KINDS.includes(kind)) throw new DehbError('E_USAGE', `--kind must be one of ${KINDS.join(', ')} (got "${flags.kind}")`);
  // loaded only when the command runs (dehb --help stays cheap)
  const [{ loadRunConfig }, { createStudy }] = await Promise.all([import('../run-config.js'), import('../../api/study-open.js')]);
  const cfg = await loadRunConfig(flags);
  if (cfg.space === undefined) throw new DehbError('E_USAGE', 'missing search space: --space FILE (or "space" in --config)');
  if (cfg.objective === undefined) {
    throw new DehbError('E_USAGE', 'missing objective: --command "..." or --objective MODULE (workers run it for every trial)');
  }
  const o = cfg.optimizer;
  // random and manual studies evaluate at one fidelity: they need no range
  if (kind === 'dehb' && (o.minFidelity === undefined || o.maxFidelity === undefined)) {
    throw new DehbError('E_USAGE', 'missing fidelity range: --min-fidelity N --max-fidelity M (kinds random and manual need none)');
  }
  let maxFileBytes: number | undefined;
  if (flags.maxFileSize !== undefined) {
    maxFileBytes = Number(flags.maxFileSize);
    if (!Number.isInteger(maxFileBytes) || maxFileBytes < 1) {
      throw new DehbError('E_USAGE', `--max-file-size must be a whole number of bytes (got "${flags.maxFileSize}")`);
    }
  }
  const storage = defaultStorageUrl(flags.storage);
  const st = await createStudy({
    name,
    storage,
    space: cfg.space,
    ...o, // only the keys given (run-config.ts sets no undefined one)
    kind,
    objective: cfg.objective,
    ...(cfg.trialTimeoutMs === undefined ? {} : { trialTimeoutMs: cfg.trialTimeoutMs }),
    inputFiles: flags.inputFile,
    ...(maxFileBytes === undefined ? {} : { maxFileBytes }),
    skipIfExists: flags.skipIfExists === true,
  }).catch((err: unknown) => {
    throw inFlagWords(err); // the words of the flags the user typed
  });
  try {
    const view = await st.view();
    const fresh = st.created;
    if (flags.json === true) out(JSON.stringify({ name, created: fresh, storage: st.storage.url }));
    const files = view.meta.inputFiles ?? [];
    note(
      fresh
        ? `created study "${name}" in ${st.storage.url} (kind ${view.options.kind}, seed ${view.options.seed}, fidelity ${view.options.minFidelity}..${view.options.maxFidelity}, eta ${view.options.eta}${files.length > 0 ? `, ${files.length} input file(s)` : ''})`
        : `study "${name}" already exists in ${st.storage.url}; left unchanged`,
    );
  } finally {
    await st.close();
  }
}
