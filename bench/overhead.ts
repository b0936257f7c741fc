/**
 * `npm run bench:overhead [-- --evals 20000 --block 2000 --seed 1 --min-fidelity 1
 *  --max-fidelity 81 --eta 3]`
 *
 * Prints ask+tell pairs per second of the optimizer alone (trivial objective) on a 6-D float space
 * and a 32-D mixed space, the cost of the first and the last block (default 2,000 pairs), the
 * reference DEHB's figures, and, as the LAST line, one JSON object with all figures.
 */
import { DehbError } from '../src/errors.js';
import { intFlag, numFlag, parseFlags } from './lib/args.js';
import { floatSpace6, measureOverhead, mixedSpace32, type OverheadFigures, type OverheadOptions } from './lib/overhead-core.js';
import { formatTable } from './lib/table.js';

const TARGET = 50_000;
const REFERENCE = 'reference DEHB 0.1.2 (Python): 2–5 ms per ask, growing with history (≈280–520 ask+tell pairs/s)';

function main(): void {
  const v = parseFlags({
    evals: { type: 'string' },
    block: { type: 'string' },
    seed: { type: 'string' },
    'min-fidelity': { type: 'string' },
    'max-fidelity': { type: 'string' },
    eta: { type: 'string' },
  });
  const opts: OverheadOptions = {
    evals: intFlag(v, 'evals', 20_000, 1),
    block: intFlag(v, 'block', 2_000, 1),
    seed: intFlag(v, 'seed', 1),
    minFidelity: numFlag(v, 'min-fidelity', 1) ?? 1,
    maxFidelity: numFlag(v, 'max-fidelity', 81) ?? 81,
    eta: numFlag(v, 'eta', 3) ?? 3,
  };
  const results: OverheadFigures[] = [
    measureOverhead('float6', floatSpace6(), opts),
    measureOverhead('mixed32', mixedSpace32(), opts),
  ];
  const f0 = (x: number) => x.toFixed(0);
  const f1 = (x: number) => x.toFixed(1);
  const rows = results.map((r) => [
    `${r.space} (${r.dims}-D)`,
    f0(r.pairs_per_s),
    `${f1(r.first.us_per_pair)} µs / ${f0(r.first.pairs_per_s)}`,
    `${f1(r.last.us_per_pair)} µs / ${f0(r.last.pairs_per_s)}`,
    `${f1(r.ask_us)} / ${f1(r.tell_us)}`,
    (r.state_json_bytes / 1024).toFixed(0),
  ]);
  const lines = [
    `optimizer overhead: ${opts.evals} sequential ask+tell pairs, trivial objective (sum of vector), ` +
      `fidelity ${opts.minFidelity}..${opts.maxFidelity} eta ${opts.eta}, seed ${opts.seed}, node ${process.version}`,
    formatTable(
      ['space', 'pairs/s', `first ${opts.block} (per pair / pairs/s)`, `last ${opts.block}`, 'ask µs / tell µs', 'state KiB'],
      rows,
    ),
    ...results.map((r) => `  ${r.space} µs per pair by block: ${r.blocks_us.map((x) => x.toFixed(1)).join(' ')}`),
    REFERENCE,
    `target: >= ${TARGET} pairs/s, flat as the history grows`,
  ];
  const met = results.every((r) => r.pairs_per_s >= TARGET && r.last.pairs_per_s >= TARGET);
  lines.push(`target ${met ? 'met' : 'MISSED'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'overhead',
      evals: opts.evals,
      block: opts.block,
      target_pairs_per_s: TARGET,
      target_met: met,
      reference: { ms_per_ask: [2, 5], pairs_per_s: [280, 520] },
      results,
    })}\n`,
  );
}

try {
  main();
} catch (err) {
  const usage = err instanceof DehbError && err.code === 'E_USAGE';
  process.stderr.write(`bench:overhead: ${err instanceof Error ? (usage ? err.message : (err.stack ?? err.message)) : String(err)}\n`);
  process.exitCode = usage ? 2 : 1;
}
