// Drive DEHB by hand: ask a batch of jobs (new brackets open as needed), evaluate them however you
// like (here: concurrently with Promise.all), tell the results. Run after `npm run build`:
//   node examples/library/ask-tell.mjs [rounds]
import { DEHB } from 'dehb';

const rounds = Number(process.argv[2] ?? 10);
const dehb = new DEHB({
  space: { x: { type: 'float', low: -5, high: 5 }, y: { type: 'float', low: -5, high: 5 } },
  minFidelity: 1,
  maxFidelity: 9,
  seed: 3,
});
const branin = ({ x, y }, fidelity) => (y - 0.129 * x * x + 1.59 * x - 6) ** 2 + 9.6 * Math.cos(x) + 10 + 5 / fidelity;

for (let round = 0; round < rounds; round++) {
  const jobs = Array.from({ length: 4 }, () => dehb.ask());
  const results = await Promise.all(jobs.map(async (job) => branin(job.config, job.fidelity)));
  await Promise.all(jobs.map((job, i) => dehb.tell(job, results[i])));
}
console.log(JSON.stringify({ trials: dehb.history.length, incumbent: dehb.incumbent?.fitness }));
