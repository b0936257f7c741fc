/**
 * Owns what the coordinator says about jobs that wait long: once per job, why connected workers
 * refused it (workers that may not run a job leave it on the queue and note the refusal in the
 * job's log), and the one-shot hint when no worker is connected at all.
 */
import type { Queue } from '../../redis/bullmq.js';
import type { BrokerHealth } from '../../redis/health.js';
import { jobIdOf, type Entry } from './pending.js';

export class WaitingReport {
  private readonly said = new Set<string>();

  constructor(
    private readonly queue: Queue,
    private readonly health: BrokerHealth,
    private readonly afterMs: number,
    private readonly log: (message: string) => void,
  ) {}

  /** Looks at the entries added longer than `afterMs` ago. */
  async check(entries: Entry[], now: number): Promise<void> {
    const long = entries.filter((e) => e.phase === 'added' && now - e.addedAt >= this.afterMs);
    await this.reportRefusals(long, now);
    if (!this.health.quietFor(this.afterMs, now)) return;
    if (long.length > 0 && (await this.queue.getWorkersCount().catch(() => -1)) === 0) this.health.warnNoWorker();
  }

  private async reportRefusals(long: Entry[], now: number): Promise<void> {
    if (this.said.size > 10_000) this.said.clear();
    // a batch member's job is its batch's (said once for the batch)
    const firsts = [...new Map(long.map((e) => [jobIdOf(e), e])).values()];
    for (const e of firsts.filter((x) => !this.said.has(jobIdOf(x))).slice(0, 20)) {
      const jobId = jobIdOf(e);
      const { logs } = await this.queue.getJobLogs(jobId, -1, -1);
      const last = logs[logs.length - 1];
      if (last === undefined) continue;
      this.said.add(jobId);
      const s = Math.round((now - e.addedAt) / 1000);
      const which = e.batch === undefined ? `trial ${e.task.trialId}` : `trials ${[...e.batch.members.keys()].join(', ')}`;
      this.log(`${which} (job ${jobId}) has waited ${s} s: no connected worker may run it; last refusal: ${last.replace(/^\S+ /, '')}`);
    }
  }
}
