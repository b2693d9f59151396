/**
 * The Lua scripts behind the Redis store. Each runs atomically on the server: `observe` answers a
 * decision in one round trip; the record scripts update several keys (with their TTLs) at once.
 * Every key of a subject shares one hash tag, so the scripts also work on Redis Cluster.
 */

/** KEYS: last, devices, countries, asns, failures, prompts, hours. ARGV: device, country, asn, known-since, failures-since, prompts-since. */
export const OBSERVE = `
local function known(key, member)
  if member == '' then return -1 end
  local score = redis.call('ZSCORE', key, member)
  if not score or tonumber(score) < tonumber(ARGV[4]) then return 0 end
  return 1
end
return {
  redis.call('HMGET', KEYS[1], 'time', 'country', 'lat', 'lon', 'acc', 'anon'),
  known(KEYS[2], ARGV[1]),
  known(KEYS[3], ARGV[2]),
  known(KEYS[4], ARGV[3]),
  redis.call('ZCOUNT', KEYS[5], ARGV[5], '+inf'),
  redis.call('ZCOUNT', KEYS[6], ARGV[6], '+inf'),
  redis.call('HGETALL', KEYS[7])
}`;

/**
 * KEYS: last, devices, countries, asns, hours.
 * ARGV: time, country, lat, lon, accuracy, anonymized, device, asn, hour, ttl, max-members, known-since.
 */
export const RECORD_LOGIN = `
local t = tonumber(ARGV[1])
local current = redis.call('HGET', KEYS[1], 'time')
if not current or tonumber(current) <= t then
  redis.call('HSET', KEYS[1], 'time', ARGV[1], 'country', ARGV[2], 'lat', ARGV[3], 'lon', ARGV[4], 'acc', ARGV[5], 'anon', ARGV[6])
end
redis.call('EXPIRE', KEYS[1], ARGV[10])
local members = { ARGV[7], ARGV[2], ARGV[8] }
for i = 1, 3 do
  local key = KEYS[i + 1]
  if members[i] ~= '' then redis.call('ZADD', key, 'GT', t, members[i]) end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[12])
  redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[11]) + 1))
  redis.call('EXPIRE', key, ARGV[10])
end
local at = tonumber(redis.call('HGET', KEYS[5], 'at') or '-1')
if at < tonumber(ARGV[12]) then redis.call('DEL', KEYS[5]) end
redis.call('HINCRBY', KEYS[5], ARGV[9], 1)
if at < t then redis.call('HSET', KEYS[5], 'at', ARGV[1]) end
redis.call('EXPIRE', KEYS[5], ARGV[10])
return 1`;

/** KEYS: the event set. ARGV: time, unique member, since, ttl, max events. */
export const RECORD_EVENT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[5]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;
