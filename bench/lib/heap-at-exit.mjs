// Loaded with `node --expose-gc --import` by bench:e2e: at exit prints the peak RSS so far
// ("MAXRSS <KB>", getrusage, as /usr/bin/time reports it, but read BEFORE the collection below,
// whose marking and compaction could otherwise raise the peak it measures), then collects garbage
// and prints the live JS heap ("LIVEHEAP <bytes>"), so a run's retained memory is told apart from
// peak RSS, which also holds garbage not yet collected and allocator slack.
process.on('exit', () => {
  process.stderr.write(`PEAKRSS ${process.resourceUsage().maxRSS}\n`);
  globalThis.gc?.();
  process.stderr.write(`LIVEHEAP ${process.memoryUsage().heapUsed}\n`);
});
