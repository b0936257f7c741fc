/**
 * `study.ask()` / `study.tell()`: trials handed out to the caller, who evaluates them wherever it
 * likes and tells the result. An ask takes the study's lease for the moment it asks (the optimizer
 * state has one writer at a time: while an `optimize` leads, ask waits for the lease up to
 * `waitMs`), journals a fenced `asked` entry marked `external` and gives the lease back. External
 * trials are the asker's: no `optimize` (this process or another) evaluates them, also after the
 * study is re-opened; they stay pending until told. A tell needs no lease: it journals a `told`
 * entry exactly as a worker does, after checking (from the journal) that the trial was asked and
 * not told yet, so a second tell of a trial, or a tell of a trial never asked (or asked by an
 * optimize, whose worker tells it), is an error. Asks of one Study run one at a time.
 *
 * The asker keeps its replayed session between asks and catches it up with what others journaled
 * since (results, pushes); an entry only another leader could have written (a trial it asked)
 * makes it replay the journal again.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DehbError } from '../errors.js';
import type { Config } from '../dehb/types.js';
import type { JournalBackend, StoredEntry } from '../study/journal-types.js';
import type { LeaderJournal } from '../study/leader-journal.js';
import type { RunSession } from '../study/run-session.js';
import { openSession } from '../study/session-open.js';
import type { StudyStorage } from '../study/storage.js';
import { normaliseResult, type ResultInput } from './result-input.js';
import { sleep } from '../util/sleep.js';

/** A trial handed out by `study.ask()`: evaluate `config` at `fidelity`, then `study.tell(trial, result)`. */
export interface AskedTrial {
  trialId: number;
  config: Config;
  fidelity: number;
  /** Where the trial sits in DEHB's brackets (-1 for manual and random trials). */
  bracketId: number;
  rung: number;
  source: 'de' | 'promotion' | 'random' | 'manual';
}

export interface AskOptions {
  /** How long to wait for the lease while another process (an optimize) leads. Default 10 s. */
  waitMs?: number;
}

const LEASE_TTL_MS = 30_000;

export class StudyAsker {
  readonly holder = `ask-${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  private session: { session: RunSession; journal: LeaderJournal; seq: number } | null = null;
  private reader: JournalBackend | null = null;
  /** What tell() checks: trials asked (and which of them by ask()) and trials told, as far as `seen`. */
  private readonly asked = new Set<number>();
  private readonly external = new Set<number>();
  private readonly told = new Set<number>();
  private seen = 0;
  private tells: Promise<unknown> = Promise.resolve();
  private asks: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: StudyStorage,
    private readonly study: string,
  ) {}

  /** One ask at a time per Study: each catches the session up and asks under the lease. */
  ask(opts: AskOptions = {}): Promise<AskedTrial> {
    const next = this.asks.then(() => this.askNow(opts));
    this.asks = next.catch(() => undefined);
    return next;
  }

  private async askNow(opts: AskOptions): Promise<AskedTrial> {
    await this.takeLease(opts.waitMs ?? 10_000);
    try {
      const s = await this.caughtUp();
      const r = s.session.ask({ external: true });
      if (!('job' in r)) throw new DehbError('E_STATE', `study "${this.study}": no trial can be asked now (${r.reason})`);
      await s.session.flush();
      const failure = s.session.journalFailure;
      if (failure !== null) {
        this.session = null;
        throw failure;
      }
      const j = r.job;
      return { trialId: j.trialId, config: j.config, fidelity: j.fidelity, bracketId: j.bracketId, rung: j.rung, source: j.source };
    } catch (err) {
      this.session = null; // replay again next time rather than trust a session that failed
      throw err;
    } finally {
      await this.storage.releaseLease(this.study, this.holder).catch(() => undefined);
    }
  }

  /** Journals the result of an asked trial (one at a time per Study, so a trial is told once). */
  tell(trial: AskedTrial | number, result: ResultInput): Promise<void> {
    const trialId = typeof trial === 'number' ? trial : trial?.trialId;
    const next = this.tells.then(async () => {
      if (typeof trialId !== 'number' || !Number.isInteger(trialId) || trialId < 0) {
        throw new DehbError('E_CONFIG', `tell() takes a trial from ask() or its trialId (got ${JSON.stringify(trial)})`);
      }
      const told = normaliseResult(result);
      await this.sync();
      if (!this.asked.has(trialId)) {
        throw new DehbError('E_STATE', `study "${this.study}" has no trial ${trialId} to tell: it was never asked (tell() takes a trial from ask())`);
      }
      if (this.told.has(trialId)) throw new DehbError('E_STATE', `study "${this.study}": trial ${trialId} was already told`);
      if (!this.external.has(trialId)) {
        throw new DehbError('E_STATE', `study "${this.study}": trial ${trialId} was not handed out by ask(); an optimize evaluates it and journals its result`);
      }
      await (await this.journal()).append([{ type: 'told', trialId, result: told, worker: { id: this.holder, host: hostname(), pid: process.pid } }]);
      this.told.add(trialId);
    });
    this.tells = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.session = null;
    await this.reader?.close();
    this.reader = null;
  }

  private async journal(): Promise<JournalBackend> {
    this.reader ??= await this.storage.journal(this.study);
    return this.reader;
  }

  /** Reads the entries journaled since the last look into the asked/told index. */
  private async sync(): Promise<StoredEntry[]> {
    const entries = await (await this.journal()).read(this.seen + 1);
    for (const e of entries) {
      if (e.type === 'asked') {
        this.asked.add(e.trialId);
        if (e.external === true) this.external.add(e.trialId);
      }
      else if (e.type === 'told') this.told.add(e.trialId);
    }
    const last = entries[entries.length - 1];
    if (last !== undefined) this.seen = last.seq;
    return entries;
  }

  private async takeLease(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (let pause = 20; ; pause = Math.min(250, pause * 1.5)) {
      if (await this.storage.acquireLease(this.study, this.holder, LEASE_TTL_MS)) return;
      if (Date.now() >= deadline) {
        const lease = await this.storage.getLease(this.study);
        throw new DehbError(
          'E_STUDY',
          `study "${this.study}" is led by ${lease?.holder ?? 'another process'} (an optimize running); ask() waited ${waitMs} ms for it: ask again when it ends, or pass a larger waitMs`,
          { details: { study: this.study, reason: 'lease-held' } },
        );
      }
      await sleep(pause);
    }
  }

  /** The asker's session, caught up with everything journaled since it last asked (lease held). */
  private async caughtUp(): Promise<{ session: RunSession; journal: LeaderJournal; seq: number }> {
    const reader = await this.journal();
    let s = this.session;
    if (s !== null) {
      const fresh = await reader.read(s.seq + 1);
      for (const e of fresh) {
        if (e.type === 'asked' && !s.session.wasAsked(e.trialId)) {
          s = null; // another leader asked meanwhile: its state is not ours to guess
          break;
        }
        if (e.type === 'told' && s.session.pendingJob(e.trialId) !== undefined) s.session.tell(e.trialId, e.result);
        else if (e.type === 'pushed') s.session.push(e.config, e.fidelity);
        s.seq = e.seq;
      }
    }
    if (s === null) {
      // told/started/report entries are written by whoever evaluated (tell(), workers): the session only applies them
      const { session, journal } = await openSession({ kind: 'study', storage: this.storage, study: this.study, holder: this.holder, reader, writtenElsewhere: () => true });
      s = { session, journal, seq: journal.lastReadSeq };
    }
    this.session = s;
    return s;
  }
}
