/**
 * Counts the Redis commands of a benchmark run by side and by name, from MONITOR on the bench's
 * private redis-server: every top-level command is attributed to the process that owns the client
 * socket (local port -> pid from `ss -tnp`, sampled during the run), and each EVALSHA is named after
 * the script (BullMQ's by the SHA1 of their source; dehb's own by the commands they run inside).
 * Commands run inside scripts are counted apart ("inner"): they cost Redis CPU, not round trips.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';

export interface CommandCounts {
  /** side -> command (script) name -> top-level calls */
  top: Map<string, Map<string, number>>;
  /** Commands run inside scripts, all sides. */
  inner: number;
  /** script name -> commands run inside it, all calls */
  innerBy: Map<string, number>;
}

/** sha1 -> BullMQ script name, from the script sources in node_modules. */
function bullScriptNames(root: string): Map<string, string> {
  const dir = join(root, 'node_modules', 'bullmq', 'dist', 'esm', 'scripts');
  const out = new Map<string, string>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.js') || f === 'index.js') continue;
    const text = readFileSync(join(dir, f), 'utf8');
    const m = /const content = `([\s\S]*?)`;\nexport const/.exec(text);
    if (m === null) continue;
    // the file holds a template literal: evaluate its escapes the way JS does
    const content = new Function(`return \`${m[1] as string}\`;`)() as string;
    out.set(createHash('sha1').update(content).digest('hex'), f.replace(/-\d+\.js$/, ''));
  }
  return out;
}

/** local port -> pid of every TCP socket to `port`, from `ss -tnp`. */
function socketOwners(port: number, into: Map<number, number>): void {
  const r = spawnSync('ss', ['-tnpH', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) {
    const m = /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:\d+\s+users:\(\("[^"]*",pid=(\d+)/.exec(line);
    if (m !== null) into.set(Number(m[1]), Number(m[2]));
  }
}

export class RedisMonitor {
  private readonly lines: string[] = [];
  private readonly owners = new Map<number, number>();
  private mon: Redis | undefined;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly conn: { host: string; port: number; password?: string },
    private readonly root: string,
  ) {}

  async start(): Promise<void> {
    const mon = new Redis({ ...this.conn, lazyConnect: true });
    await mon.connect();
    const m = await mon.monitor();
    m.on('monitor', (_time: string, args: string[], source: string) => this.lines.push(`${source}\u0000${args.join('\u0000')}`));
    this.mon = m;
    mon.disconnect();
    this.sampler = setInterval(() => socketOwners(this.conn.port, this.owners), 100);
  }

  /** Stops and counts; `side(pid)` names the process (e.g. coordinator / worker), undefined: not counted. */
  async stop(side: (pid: number | undefined) => string | undefined): Promise<CommandCounts> {
    socketOwners(this.conn.port, this.owners);
    if (this.sampler !== undefined) clearInterval(this.sampler);
    await new Promise((r) => setTimeout(r, 200));
    this.mon?.disconnect();
    const names = bullScriptNames(this.root);
    const top = new Map<string, Map<string, number>>();
    let inner = 0;
    const innerBy = new Map<string, number>();
    // a script's inner commands follow its EVALSHA line; name unknown scripts by what they run
    let pending: { side: string; sha: string; inner: string[] } | null = null;
    const flush = (): void => {
      if (pending === null) return;
      const name = names.get(pending.sha) ?? `script[${[...new Set(pending.inner)].slice(0, 3).join(',')}]`;
      const m = top.get(pending.side) ?? new Map<string, number>();
      m.set(name, (m.get(name) ?? 0) + 1);
      top.set(pending.side, m);
      innerBy.set(name, (innerBy.get(name) ?? 0) + pending.inner.length);
      pending = null;
    };
    for (const l of this.lines) {
      const [source, cmd, arg1] = l.split('\u0000') as [string, string, string | undefined];
      const c = cmd.toLowerCase();
      if (source === 'lua') {
        inner++;
        pending?.inner.push(c);
        continue;
      }
      flush();
      const port = Number(/:(\d+)$/.exec(source)?.[1]);
      const s = side(this.owners.get(port));
      if (s === undefined) continue;
      if (c === 'evalsha' || c === 'eval') {
        pending = { side: s, sha: c === 'eval' ? createHash('sha1').update(arg1 ?? '').digest('hex') : (arg1 ?? ''), inner: [] };
        continue;
      }
      const m = top.get(s) ?? new Map<string, number>();
      m.set(c, (m.get(c) ?? 0) + 1);
      top.set(s, m);
    }
    flush();
    return { top, inner, innerBy };
  }
}
