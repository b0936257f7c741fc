/**
 * `dehb space export FILE --format configspace|dehb`: reads a space file (our JSON or ConfigSpace
 * JSON), validates it, and writes it as ConfigSpace JSON (for ConfigSpace, SMAC, the reference
 * DEHB) or as our normalised JSON, to stdout or --output.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';

const FORMATS = ['configspace', 'dehb'];

export function registerSpaceCommands(program: Command): void {
  const space = program.command('space').description('search space files: convert between our JSON and ConfigSpace JSON');
  space
    .command('export')
    .description('validate a space file (ours or ConfigSpace JSON) and write it as ConfigSpace JSON or our JSON')
    .argument('<file>', 'search space JSON file')
    .option('-f, --format <format>', 'configspace | dehb', 'configspace')
    .option('-o, --output <file>', 'write here instead of stdout')
    .action(async (file: string, flags: { format: string; output?: string }) => {
      await exportSpace(file, flags);
    });
}

export async function exportSpace(file: string, flags: { format: string; output?: string }): Promise<void> {
  if (!FORMATS.includes(flags.format)) {
    throw new DehbError('E_USAGE', `--format must be configspace or dehb (got "${flags.format}")`);
  }
  // loaded when the command runs: `dehb --help` stays free of zod and the space code
  const [{ readSpace }, { toConfigSpace }] = await Promise.all([import('../run-config.js'), import('../../dehb/space/configspace-write.js')]);
  const spec = await readSpace(resolve(file), '<file>');
  const doc = flags.format === 'configspace' ? toConfigSpace(spec) : spec;
  const text = JSON.stringify(doc, null, 2) + '\n';
  if (flags.output === undefined) process.stdout.write(text);
  else await writeFile(resolve(flags.output), text);
}
