/**
 * How long a job a worker refused waits before every worker is offered it again
 * (cluster/bullmq/job-verdicts.ts leaveDelayMs): short at first, since filtering workers (study
 * slots, `--study`) refuse each other's jobs all the time, doubling per refusal by the same worker
 * and capped, so a job nobody takes does not keep a worker busy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEAVE_FIRST_DELAY_MS, LEAVE_MAX_DELAY_MS, leaveDelayMs } from '../../src/cluster/bullmq/job-verdicts.js';

test('a refused job waits 25 ms first, twice as long per further refusal, 10 s at most', () => {
  assert.equal(LEAVE_FIRST_DELAY_MS, 25);
  assert.deepEqual([1, 2, 3, 4, 5].map(leaveDelayMs), [25, 50, 100, 200, 400]);
  assert.equal(leaveDelayMs(9), 6400);
  assert.equal(leaveDelayMs(10), LEAVE_MAX_DELAY_MS);
  assert.equal(leaveDelayMs(1000), LEAVE_MAX_DELAY_MS, 'no overflow for a job refused very often');
  assert.equal(leaveDelayMs(0), 25, 'a count below 1 reads as the first refusal');
});
