/**
 * Turning pushed configurations into trials when no lease holder runs (`dehb push`): take the
 * lease briefly, replay the journal, ask the optimizer for the pushed jobs (journaled, fenced by
 * the lease), and give the lease back. They stay pending in the journal: the next lease holder
 * (a `dehb optimize`, or a `dehb worker --study` that sees pending trials) submits them, on any
 * storage. A running lease holder does this itself.
 */
import { openSession } from './session-open.js';
import type { StudyStorage } from './storage.js';

/** Resolves false when another process holds the lease (it queues the pushes itself). */
export async function queuePushes(storage: StudyStorage, study: string, holder: string, leaseTtlMs = 10_000): Promise<boolean> {
  const lease = await storage.getLease(study); // lock-free look first
  if (lease !== null && lease.holder !== holder) return false;
  if (!(await storage.acquireLease(study, holder, leaseTtlMs))) return false;
  const journal = await storage.journal(study);
  try {
    const { session } = await openSession({ kind: 'study', storage, study, holder, reader: journal });
    while (session.state.manualQueue.length > 0) if (!('job' in session.ask())) break;
    await session.flush();
    return true;
  } finally {
    await journal.close();
    await storage.releaseLease(study, holder).catch(() => undefined);
  }
}
