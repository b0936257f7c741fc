// Loaded with `node --expose-gc --import` by bench:e2e: at exit, collects garbage and prints the live
// JS heap on stderr ("LIVEHEAP <bytes>"), so a run's retained memory is told apart from peak RSS,
// which also holds garbage not yet collected and allocator slack.
process.on('exit', () => {
  globalThis.gc?.();
  process.stderr.write(`LIVEHEAP ${process.memoryUsage().heapUsed}\n`);
});
