// How a Redis Cluster is said and what it changes, without a server: redis+cluster:// URLs and the
// scheduler file's `cluster`/`nodes` fields (untrusted: malformed ones are refused naming the
// field), the hash-tag rule and the tagged prefix, withClusterMode's refusals (db != 0, a results
// key in another slot, `cluster: false` to a cluster node), and parsing CLUSTER NODES.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDehbError } from '../../src/errors.js';
import { connectionFromSchedulerFile, makeSchedulerFile, validateSchedulerFile } from '../../src/protocol/scheduler-file.js';
import { formatRedisUrl, parseRedisUrl, redactRedisUrl } from '../../src/protocol/redis-url.js';
import { hashTagOf, hashTaggedPrefix, withClusterMode } from '../../src/redis/cluster-mode.js';
import { assessRedis, parseClusterNodes, type RedisFacts } from '../../src/redis/probe.js';
import { clusterKeys } from '../../src/redis/connection.js';
import { claimKey } from '../../src/redis/run-claim.js';

const isCode = (code: string, re: RegExp) => (err: unknown) => isDehbError(err) && err.code === code && re.test(err.message);
const base = { version: 1, redisUrl: 'redis://10.0.0.1:7000/0', prefix: 'dehb', queue: 'evals' };

describe('Redis Cluster configuration', () => {
  it('parses redis+cluster:// URLs: seed nodes, auth, TLS, IPv6; the password is redacted', () => {
    const ep = parseRedisUrl('redis+cluster://alice:p%40ss@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002');
    assert.deepEqual(ep, {
      host: '10.0.0.1', port: 7000, db: 0, username: 'alice', password: 'p@ss',
      cluster: { nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }, { host: '::1', port: 7002 }] },
    });
    assert.deepEqual(parseRedisUrl('rediss+cluster://:pw@h:1').tls, {});
    assert.equal(redactRedisUrl('redis+cluster://:secret@h:1,h:2'), 'redis+cluster://:***@h:1,h:2');
    // `scheduler init` rebuilds the URL with a password from DEHB_REDIS_PASSWORD: the seeds stay
    const { tls: _tls, ...seeds } = parseRedisUrl('redis+cluster://h:1,[::1]:2');
    const rebuilt = formatRedisUrl({ ...seeds, password: 'p w' });
    assert.equal(rebuilt, 'redis+cluster://:p%20w@h:1,[::1]:2/0');
    assert.deepEqual(parseRedisUrl(rebuilt).cluster, { nodes: [{ host: 'h', port: 1 }, { host: '::1', port: 2 }] });
  });

  it('refuses malformed cluster URLs and a database other than 0, naming the field', () => {
    for (const bad of ['redis+cluster://', 'redis+cluster://h', 'redis+cluster://h:1,', 'redis+cluster://h:99999', 'redis+cluster://h:1,h2', 'redis+cluster://h:1/x']) {
      assert.throws(() => parseRedisUrl(bad, '--storage'), isCode('E_CONFIG', /^--storage must be .*redis\+cluster:\/\//), bad);
    }
    assert.throws(() => parseRedisUrl('redis+cluster://h:1,h:2/3'), isCode('E_CONFIG', /only database 0; drop "\/3"/));
  });

  it('scheduler file: cluster/nodes fields are validated, nodes add seeds, cluster:false is kept', async () => {
    assert.throws(() => validateSchedulerFile({ ...base, cluster: 'yes' }), isCode('E_SCHEDULER_FILE', /field "cluster"/));
    assert.throws(() => validateSchedulerFile({ ...base, nodes: ['10.0.0.2'] }), isCode('E_SCHEDULER_FILE', /field "nodes\.0": must be host:port/));
    assert.throws(() => validateSchedulerFile({ ...base, nodes: [] }), isCode('E_SCHEDULER_FILE', /field "nodes"/));
    assert.throws(() => validateSchedulerFile({ ...base, nodes: 'h:1' }), isCode('E_SCHEDULER_FILE', /field "nodes"/));
    assert.throws(() => validateSchedulerFile({ ...base, cluster: false, nodes: ['h:1'] }), isCode('E_SCHEDULER_FILE', /field "nodes": is for a Redis Cluster but "cluster" is false/));
    const seeded = await connectionFromSchedulerFile(makeSchedulerFile({ redisUrl: base.redisUrl, nodes: ['10.0.0.2:7001', '10.0.0.1:7000'] }));
    assert.deepEqual(seeded.endpoint.cluster, { nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }] });
    const on = await connectionFromSchedulerFile(makeSchedulerFile({ redisUrl: base.redisUrl, cluster: true }));
    assert.deepEqual(on.endpoint.cluster, { nodes: [{ host: '10.0.0.1', port: 7000 }] });
    const off = await connectionFromSchedulerFile(makeSchedulerFile({ redisUrl: base.redisUrl, cluster: false }));
    assert.equal(off.endpoint.cluster, 'off');
    const plain = await connectionFromSchedulerFile(makeSchedulerFile({ redisUrl: base.redisUrl }));
    assert.equal(plain.endpoint.cluster, undefined, 'not known yet: detected when connecting');
    await assert.rejects(connectionFromSchedulerFile(makeSchedulerFile({ redisUrl: 'redis+cluster://h:1', cluster: false })), isCode('E_SCHEDULER_FILE', /"cluster" is false but "redisUrl" is a redis\+cluster/));
    await assert.rejects(connectionFromSchedulerFile(makeSchedulerFile({ redisUrl: 'redis://h:1/2', cluster: true })), isCode('E_SCHEDULER_FILE', /only database 0/));
  });

  it('scheduler file: natMap maps announced node addresses to reachable ones, validated, implies a cluster', async () => {
    for (const natMap of [['h:1'], { 'h:1': 'h' }, { h: 'h:2' }, { 'h:1': 5 }, 'h:1=h:2']) {
      assert.throws(() => validateSchedulerFile({ ...base, natMap }), isCode('E_SCHEDULER_FILE', /field "natMap/), JSON.stringify(natMap));
    }
    assert.throws(() => validateSchedulerFile({ ...base, cluster: false, natMap: { 'h:1': 'h:2' } }), isCode('E_SCHEDULER_FILE', /field "natMap": is for a Redis Cluster but "cluster" is false/));
    const many = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`10.0.${i >> 8}.${i & 255}:7000`, 'h:1']));
    assert.throws(() => validateSchedulerFile({ ...base, natMap: many }), isCode('E_SCHEDULER_FILE', /field "natMap": has more than 1024/));
    const conn = await connectionFromSchedulerFile(validateSchedulerFile({ ...base, natMap: { '172.17.0.2:7000': 'gateway.example:17000', '[fd00::2]:7000': '[::1]:7000' } }));
    assert.deepEqual(conn.endpoint.cluster, {
      nodes: [{ host: '10.0.0.1', port: 7000 }],
      natMap: { '172.17.0.2:7000': { host: 'gateway.example', port: 17000 }, 'fd00::2:7000': { host: '::1', port: 7000 } },
    });
  });

  it('hash tags follow Redis\' rule; a prefix is wrapped unless it has one', () => {
    assert.equal(hashTagOf('{dehb}:evals:1'), 'dehb');
    assert.equal(hashTagOf('a{b}c{d}'), 'b');
    assert.equal(hashTagOf('{}x{y}'), null, 'an empty first tag means no tag');
    assert.equal(hashTagOf('dehb:evals'), null);
    assert.equal(hashTaggedPrefix('dehb'), '{dehb}');
    assert.equal(hashTaggedPrefix('dehb:'), '{dehb}:');
    assert.equal(hashTaggedPrefix('{mine}x'), '{mine}x');
  });

  it('withClusterMode: a detected cluster gets seeds and a tagged prefix, so every key of the queue shares the tag', () => {
    const conn = { endpoint: { host: 'h', port: 1, db: 0 }, prefix: 'dehb', queue: 'evals', resultsKey: 'dehb:evals:dehb:results' };
    assert.equal(withClusterMode(conn, false), conn, 'a single server: unchanged');
    const c = withClusterMode(conn, true);
    assert.deepEqual(c.endpoint.cluster, { nodes: [{ host: 'h', port: 1 }] });
    assert.equal(c.prefix, '{dehb}');
    const keys = clusterKeys(c);
    for (const k of [keys.base, keys.results, keys.events, keys.cancelChannel, keys.job('r-1'), keys.lock('r-1'), claimKey(keys, 'r')]) {
      assert.equal(hashTagOf(k), 'dehb', k);
    }
    assert.throws(() => withClusterMode({ ...conn, resultsKey: 'elsewhere' }, true), isCode('E_SCHEDULER_FILE', /field "resultsKey" \(elsewhere\) is in another Redis Cluster slot/));
    assert.equal(withClusterMode({ ...conn, resultsKey: '{dehb}:mine' }, true).resultsKey, '{dehb}:mine');
    assert.throws(() => withClusterMode({ ...conn, endpoint: { ...conn.endpoint, db: 3 } }, true), isCode('E_SCHEDULER_FILE', /database 3/));
    assert.throws(() => withClusterMode({ ...conn, endpoint: { ...conn.endpoint, cluster: 'off' } }, true), isCode('E_SCHEDULER_FILE', /field "cluster" is false but .* is a Redis Cluster node/));
  });

  it('parses CLUSTER NODES and says when slots are not all served or a master has no replica', () => {
    const text = [
      'a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460',
      'b1 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922',
      'c1 127.0.0.1:7002@17002 master,fail - 0 0 3 disconnected 10923-16383',
      'a2 127.0.0.1:7003@17003 slave a1 0 0 1 connected',
    ].join('\n');
    const masters = parseClusterNodes(text);
    assert.deepEqual(masters, [
      { address: '127.0.0.1:7000', slots: 5461, replicas: ['127.0.0.1:7003'] },
      { address: '127.0.0.1:7001', slots: 5462, replicas: [] },
    ]);
    const facts: RedisFacts = {
      version: '7.0.15', maxmemoryPolicy: 'noeviction', aofEnabled: true, usedMemory: 1, mode: 'cluster', clusterEnabled: true,
      cluster: { state: 'fail', slotsAssigned: 16384, slotsOk: 10923, knownNodes: 4, masters },
    };
    const found = assessRedis(facts, 'dehb');
    assert.ok(found.some((f) => f.level === 'error' && f.what === 'cluster slots' && /cluster_state is fail, 10923 of 16384/.test(f.message)));
    assert.ok(found.some((f) => f.level === 'warn' && f.what === 'cluster replicas' && /127\.0\.0\.1:7001 have no replica/.test(f.message)));
    assert.ok(found.some((f) => f.level === 'ok' && f.what === 'mode' && /prefix dehb is used as \{dehb\}/.test(f.message)));
  });
});
