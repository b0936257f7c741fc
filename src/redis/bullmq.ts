/**
 * The BullMQ classes the executors and workers use, named here so that `bullmq` is imported from
 * this folder only (the Redis adapter folder; checked by `npm run check:imports`).
 */
export { DelayedError, Queue, QueueEvents, Worker, WaitingError } from 'bullmq';
export type { ConnectionOptions, Job } from 'bullmq';
