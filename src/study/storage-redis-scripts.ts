/**
 * Lua scripts of the Redis study storage. Each runs atomically on the server and uses the server
 * clock (TIME), so claim expiry never depends on client clocks. Keys of one study share the hash
 * tag `{<name>}`. Queue keys: KEYS = queue (zset trialId by score), tasks (hash trialId -> JSON),
 * scores (hash trialId -> score), claims (zset trialId by expiry ms), claimer (hash trialId ->
 * worker), attempts (hash trialId -> claims so far).
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS[1..6] queue keys, KEYS[7] journal. ARGV: (trialId, score, json)*. Returns #added. */
export const ENQUEUE = `
if redis.call('EXISTS', KEYS[7]) == 0 then return redis.error_reply('DEHB_NO_STUDY') end
local added = 0
for i = 1, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[2], id) == 0 then
    redis.call('HSET', KEYS[2], id, ARGV[i + 2])
    redis.call('HSET', KEYS[3], id, ARGV[i + 1])
    redis.call('ZADD', KEYS[1], ARGV[i + 1], id)
    added = added + 1
  end
end
return added
`;

/** KEYS[1..6] queue keys. ARGV[1] worker, ARGV[2] ttl ms. Returns {id, json, expiresAt, attempts} or nil. */
export const CLAIM = `${NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  local score = redis.call('HGET', KEYS[3], id)
  if score then redis.call('ZADD', KEYS[1], score, id) end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if #first == 0 then return nil end
local id = first[1]
redis.call('ZREM', KEYS[1], id)
local exp = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[4], string.format('%d', exp), id)
redis.call('HSET', KEYS[5], id, ARGV[1])
local attempts = redis.call('HINCRBY', KEYS[6], id, 1)
return {id, redis.call('HGET', KEYS[2], id), string.format('%d', exp), attempts}
`;

/** KEYS[1..6]. ARGV[1] trialId, ARGV[2] worker, ARGV[3] ttl. Returns 1 when extended. */
export const HEARTBEAT = `${NOW}
if redis.call('HGET', KEYS[5], ARGV[1]) ~= ARGV[2] then return 0 end
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[4], string.format('%d', now + tonumber(ARGV[3])), ARGV[1])
return 1
`;

/** KEYS[1..6]. ARGV[1] trialId. */
export const COMPLETE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
return 1
`;

/** KEYS[1..6]. ARGV[1] trialId, ARGV[2] worker. */
export const UNCLAIM = `
if redis.call('HGET', KEYS[5], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
local score = redis.call('HGET', KEYS[3], ARGV[1])
if score then redis.call('ZADD', KEYS[1], score, ARGV[1]) end
return 1
`;

/** KEYS[1..6]. Returns {queued, claimed} counting expired claims as queued. */
export const STATS = `${NOW}
local live = redis.call('ZCOUNT', KEYS[4], '(' .. string.format('%d', now), '+inf')
local all = redis.call('ZCARD', KEYS[4])
return {redis.call('ZCARD', KEYS[1]) + all - live, live}
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
