/**
 * Turning pushed configurations into trials when no lease holder runs (`dehb push`, and a
 * `dehb worker --study` that sees pushes waiting): take the lease briefly, replay the journal, ask
 * the optimizer for the pushed jobs (journaled, fenced by the lease), queue them with the trials a
 * dead holder left pending (directory storage: its local queue; Redis: they stay pending in the
 * journal, and the next lease holder submits them), and give the lease back. A running lease
 * holder does this itself.
 */
import type { Job } from '../dehb/types.js';
import { LeaderJournal } from './leader-journal.js';
import { RunSession } from './run-session.js';
import type { QueueTask, StudyStorage } from './storage.js';

export function toQueueTask(job: Job): QueueTask {
  return { trialId: job.trialId, priority: job.source === 'manual' ? 0 : 1, config: job.config, fidelity: job.fidelity };
}

/** Resolves false when another process holds the lease (it queues the pushes itself). */
export async function queuePushes(storage: StudyStorage, study: string, holder: string, leaseTtlMs = 10_000): Promise<boolean> {
  const lease = await storage.getLease(study); // lock-free look first
  if (lease !== null && lease.holder !== holder) return false;
  if (!(await storage.acquireLease(study, holder, leaseTtlMs))) return false;
  const journal = await storage.journal(study);
  try {
    const session = await RunSession.resume(new LeaderJournal(storage, study, holder, journal, () => false), `study "${study}"`);
    const jobs: Job[] = [...session.resumedPending];
    while (session.state.manualQueue.length > 0) {
      const r = session.ask();
      if (!('job' in r)) break;
      jobs.push(r.job);
    }
    await session.flush();
    // a local queue gets them now; on Redis they stay pending in the journal for the next lease holder
    if (jobs.length > 0) await storage.queue?.enqueue(study, jobs.map(toQueueTask));
    return true;
  } finally {
    await journal.close();
    await storage.releaseLease(study, holder).catch(() => undefined);
  }
}
