/**
 * What `dehb run` shows while it works: a live progress bar on a terminal (done/budget, in
 * flight, incumbent, rate, ETA), one log line per finished trial off a terminal, and NDJSON
 * events on stdout with --json. Human text goes to stderr.
 */
import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';
import type { Job } from '../dehb/types.js';
import type { TrialRecord } from '../study/journal-types.js';
import { formatDuration } from './durations.js';

export interface ProgressOptions {
  total: number | null;
  json: boolean;
  tty: boolean;
  quiet: boolean;
  startDone: number;
}

export class RunProgress {
  private readonly bar: SingleBar | null;
  private done: number;
  private inFlight = 0;
  private best = Infinity;
  private readonly started = Date.now();

  constructor(private readonly opts: ProgressOptions) {
    this.done = opts.startDone;
    if (opts.tty && !opts.quiet && !opts.json) {
      // loaded only for a bar: runs off a terminal, quiet or --json never load it
      const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
      this.bar = new cliProgress.SingleBar(
        {
          format: ' {bar} {value}/{total} trials | in flight {inflight} | best {best} | {rate}/s | ETA {eta_formatted}',
          hideCursor: true,
          stream: process.stderr,
          etaBuffer: 50,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(opts.total ?? 0, this.done, this.payload());
    } else {
      this.bar = null;
    }
  }

  trialStarted(_job: Job): void {
    this.inFlight++;
    this.bar?.update(this.done, this.payload());
  }

  trialEnded(r: TrialRecord): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.done++;
    if (r.fitness !== null && r.fitness < this.best) this.best = r.fitness;
    if (this.opts.json) {
      process.stdout.write(JSON.stringify({ event: 'trial', ...r }) + '\n');
    }
    if (this.bar !== null) {
      this.bar.update(this.done, this.payload());
    } else if (!this.opts.quiet) {
      const fit = r.fitness === null ? r.status : r.fitness.toPrecision(6);
      const err = r.error ? ` (${r.error.message})` : '';
      process.stderr.write(
        `trial ${r.trialId} ${r.status} fitness=${fit} fidelity=${fmt(r.fidelity)} bracket=${r.bracketId} ` +
          `best=${fmt(this.best)} done=${this.done}${this.opts.total === null ? '' : `/${this.opts.total}`}${err}\n`,
      );
    }
  }

  note(text: string): void {
    if (this.bar !== null) this.bar.stop();
    if (!this.opts.quiet) process.stderr.write(text + '\n');
    if (this.bar !== null) this.bar.start(this.opts.total ?? 0, this.done, this.payload());
  }

  stop(): void {
    this.bar?.stop();
  }

  private payload(): Record<string, string | number> {
    const secs = (Date.now() - this.started) / 1000;
    return {
      inflight: this.inFlight,
      best: fmt(this.best),
      rate: secs > 0 ? ((this.done - this.opts.startDone) / secs).toFixed(1) : '0',
      elapsed: formatDuration(secs * 1000),
    };
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : '-';
}
