/**
 * Lua scripts of the Redis study storage: the lease and creating a study. Each runs atomically on
 * the server and uses the server clock (TIME), so lease expiry never depends on client clocks.
 * Keys of one study share the hash tag `{<name>}`. (Trials go out as BullMQ jobs on the same
 * Redis: the storage has no work queue of its own.)
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS[1] lease, KEYS[2] journal. ARGV[1] holder, ARGV[2] ttl. 1 when acquired/renewed, 0 when held, -1 no study. */
export const LEASE_ACQUIRE = `
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local h = redis.call('GET', KEYS[1])
if h and h ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS[1] lease. ARGV[1] holder, ARGV[2] ttl. */
export const LEASE_RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** KEYS[1] lease. ARGV[1] holder. */
export const LEASE_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/** KEYS[1] lease. Returns {holder, pttl, now} or nil. */
export const LEASE_GET = `${NOW}
local h = redis.call('GET', KEYS[1])
if not h then return nil end
return {h, redis.call('PTTL', KEYS[1]), string.format('%d', now)}
`;

/**
 * KEYS[1] studies hash, KEYS[2] journal. ARGV[1] name, ARGV[2] info JSON, ARGV[3] the created
 * entry (JSON object). Registers the study and writes journal seq 1 atomically. 1 created, 0 exists.
 */
export const CREATE_STUDY = `${NOW}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], '{"seq":1,"at":' .. string.format('%d', now) .. ',' .. string.sub(ARGV[3], 2))
return 1
`;
