// A stand-in for training a network: the "validation loss" of a configuration after `fidelity`
// epochs. Best near lr=3e-3, units=128, gelu, batch 64, adam (or sgd with momentum 0.9).
// Runs in a worker thread of the local pool (nWorkers > 1).
export async function objective(config, fidelity, ctx) {
  const lrTerm = (Math.log10(config.lr) - Math.log10(3e-3)) ** 2;
  const unitTerm = (Math.log2(config.units) - 7) ** 2 / 8;
  const actTerm = { relu: 0.05, tanh: 0.12, gelu: 0 }[config.act];
  const batchTerm = Math.abs(Math.log2(config.batch / 64)) * 0.04;
  const optTerm = config.opt === 'adam' ? 0 : Math.abs(config.momentum - 0.9) * 0.5;
  const floor = 0.05 + lrTerm * 0.2 + unitTerm * 0.1 + actTerm + batchTerm + optTerm;
  let loss = 2.5;
  for (let epoch = 1; epoch <= Math.round(fidelity); epoch++) {
    loss = floor + (loss - floor) * 0.7; // learning curve converging to the floor
    ctx?.report?.(epoch, loss);
  }
  await new Promise((r) => setTimeout(r, 2 * fidelity)); // "training time"
  return { fitness: loss, cost: fidelity, info: { epochs: Math.round(fidelity) } };
}
