/**
 * The worker/GPU timeline: one lane per device when trials were pinned to devices, else one per
 * worker; each evaluation a block from its start to its end. Blocks closer than a pixel (1/COLUMNS
 * of the run) are merged, so idle gaps that a screen can show stay visible and 50k trials stay a
 * few thousand blocks. Queue waits: the number of asked-but-not-started trials over time, and the
 * mean and longest wait between ask and start.
 */
import type { TrialRecord } from '../../study/journal-types.js';
import { evalSpan, workerLabel } from '../model.js';
import type { Timeline } from '../payload.js';
import { round } from './common.js';

const COLUMNS = 1500;
const QUEUE_POINTS = 600;

export function buildTimeline(records: readonly TrialRecord[], t0: number, now: number): Timeline {
  const spans: Array<{ lanes: string[]; s: number; e: number; failed: boolean }> = [];
  const hosts = new Set(records.map((r) => r.worker?.host ?? ''));
  let tEnd = 0;
  for (const r of records) {
    const span = evalSpan(r);
    if (span === null) continue;
    const devices = r.worker?.devices ?? [];
    const host = hosts.size > 1 ? `${r.worker?.host ?? '?'} ` : '';
    const lanes = devices.length > 0 ? devices.map((d) => `${host}GPU ${d}`) : [workerLabel(r)];
    spans.push({ lanes, s: (span[0] - t0) / 1000, e: (span[1] - t0) / 1000, failed: r.status !== 'ok' });
    tEnd = Math.max(tEnd, (span[1] - t0) / 1000);
  }
  const tol = Math.max(tEnd, 1e-3) / COLUMNS;
  const laneIds = new Map<string, number>();
  const perLane: Array<typeof spans> = [];
  for (const sp of spans) {
    for (const l of sp.lanes) {
      let id = laneIds.get(l);
      if (id === undefined) {
        laneIds.set(l, (id = laneIds.size));
        perLane.push([]);
      }
      perLane[id]?.push(sp);
    }
  }
  const blocks: Timeline['blocks'] = [];
  let busy = 0;
  perLane.forEach((list, lane) => {
    list.sort((a, b) => a.s - b.s);
    let cur: [number, number, number, number, number] | null = null;
    for (const sp of list) {
      busy += sp.e - sp.s;
      if (cur !== null && sp.s - cur[2] <= tol) {
        cur[2] = Math.max(cur[2], sp.e);
        cur[3]++;
        cur[4] += sp.failed ? 1 : 0;
      } else {
        if (cur !== null) blocks.push(cur);
        cur = [lane, sp.s, sp.e, 1, sp.failed ? 1 : 0];
      }
    }
    if (cur !== null) blocks.push(cur);
  });
  for (const b of blocks) {
    b[1] = round(b[1]) as number;
    b[2] = round(b[2]) as number;
  }
  const lanes = [...laneIds.keys()];
  return {
    lanes,
    blocks,
    trials: spans.length,
    ...queueView(records, t0, now),
    busyFraction: lanes.length === 0 || tEnd <= 0 ? null : round(busy / (lanes.length * tEnd)),
  };
}

function queueView(records: readonly TrialRecord[], t0: number, now: number): Pick<Timeline, 'queue' | 'wait'> {
  const events: Array<[number, number]> = [];
  let sum = 0;
  let n = 0;
  let max = 0;
  for (const r of records) {
    if (r.askedAt === null) continue;
    const start = r.startedAt ?? evalSpan(r)?.[0] ?? null;
    events.push([r.askedAt, 1]);
    if (start !== null) {
      events.push([start, -1]);
      const w = Math.max(0, start - r.askedAt) / 1000;
      sum += w;
      n++;
      max = Math.max(max, w);
    }
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const end = Math.max(now, events.length > 0 ? (events[events.length - 1] as [number, number])[0] : t0);
  const step = Math.max(1, end - t0) / QUEUE_POINTS;
  const queue: Array<[number, number]> = [];
  let depth = 0;
  let i = 0;
  for (let k = 0; k <= QUEUE_POINTS; k++) {
    const t = t0 + k * step;
    let peak = depth;
    while (i < events.length && (events[i] as [number, number])[0] <= t) {
      depth += (events[i] as [number, number])[1];
      peak = Math.max(peak, depth);
      i++;
    }
    queue.push([round((t - t0) / 1000) as number, peak]);
  }
  return { queue, wait: { mean: n === 0 ? null : round(sum / n), max: n === 0 ? null : round(max) } };
}
