/**
 * Owns closing a Redis Cluster client for good. BullMQ duplicates the Cluster client it is given
 * for its blocking reads (a worker's, QueueEvents') and, when its watchdog gives up on a read that
 * a dead node never answers, disconnects and reconnects that duplicate; such a reconnect seeds
 * itself with every startup node, the dead one too, whose connection then waits for a ready
 * check that never comes, outside what a later close() reaches, and keeps the process alive
 * (seen after an unplanned failover: `dehb run` done but not exiting). A `FamilyCluster`
 * remembers its duplicates and every node connection any of them opened; `closeFamily` closes
 * them all, and disconnects any that (re)connects after that.
 */
import { Cluster, type Redis } from 'ioredis';

/** A Cluster client that remembers its duplicates and the node connections they all open. */
export class FamilyCluster extends Cluster {
  readonly family = new Set<Cluster>([this]);
  readonly nodeConnections = new Set<Redis>();
  closed = false;

  constructor(...args: ConstructorParameters<typeof Cluster>) {
    super(...args);
    this.track(this);
  }

  override duplicate(overrideStartupNodes?: unknown[], overrideOptions?: object): Cluster {
    const copy = super.duplicate(overrideStartupNodes, overrideOptions);
    this.family.add(copy);
    this.track(copy);
    return copy;
  }

  private track(member: Cluster): void {
    member.on('+node', (node: Redis) => {
      if (this.closed) {
        node.disconnect();
        return;
      }
      this.nodeConnections.add(node);
      node.once('end', () => this.nodeConnections.delete(node));
    });
    const again = (): void => {
      if (this.closed) member.disconnect();
    };
    member.on('connect', again);
    member.on('ready', again);
  }
}

/** Closes `root`, its duplicates and every node connection they opened, each with `close` (bounded). */
export async function closeFamily(root: Cluster, close: (c: Cluster) => Promise<void>): Promise<void> {
  if (!(root instanceof FamilyCluster)) {
    await close(root);
    return;
  }
  root.closed = true;
  await Promise.all([...root.family].map((m) => close(m)));
  for (const node of root.nodeConnections) node.disconnect();
}
