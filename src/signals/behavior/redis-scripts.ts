/**
 * The Lua scripts behind the Redis store. Each runs atomically on the server: `observe` answers a
 * decision in one round trip; the record scripts update several keys (with their TTLs) at once.
 * Every key of a subject shares one hash tag, so the scripts also work on Redis Cluster. The
 * profile's arithmetic is profile.ts's, written out in Lua with the same integer decay table.
 */
import { SCALE, UNIT } from "./profile.js";

const DAY = 86_400;

/**
 * KEYS: last, profile, failures, prompts. ARGV: failures-since, prompts-since, then the profile's
 * fields to read. Answers the last login, the fields' entries, and the two counts.
 */
export const OBSERVE = `
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
return {
  redis.call('HMGET', KEYS[1], 'time', 'country', 'lat', 'lon', 'acc', 'anon'),
  redis.call('HMGET', KEYS[2], unpack(fields)),
  redis.call('ZCOUNT', KEYS[3], ARGV[1], '+inf'),
  redis.call('ZCOUNT', KEYS[4], ARGV[2], '+inf')
}`;

/**
 * KEYS: last, profile.
 * ARGV: time, country, lat, lon, accuracy, anonymized, ttl, max-members, relearn, context,
 * history field, then feature, value field, total field for each feature the login knows.
 */
export function recordLoginScript(table: readonly number[]): string {
  return `
local F = {${table.join(",")}}
local SCALE, UNIT, DAY = ${SCALE}, ${UNIT}, ${DAY}
local t = tonumber(ARGV[1])
local function decode(text)
  if not text then return nil end
  local c, a = string.match(text, '^(%-?[%d.e+]+):(%-?[%d.e+]+)$')
  if not c then return nil end
  return { count = tonumber(c), at = tonumber(a) }
end
local function days(entry, now)
  local d = math.floor((now - entry.at) / DAY)
  if d < 0 then d = 0 end
  return d
end
local function decayed(entry, now)
  if not entry then return 0 end
  local d = days(entry, now)
  if d >= #F then return 0 end
  return math.floor(entry.count * F[d + 1] / SCALE)
end
local function encode(count, at) return string.format('%d:%d', count, at) end
local function bump(field)
  local entry = decode(redis.call('HGET', KEYS[2], field))
  local at = t
  if entry and entry.at > t then at = entry.at end
  redis.call('HSET', KEYS[2], field, encode(decayed(entry, t) + UNIT, at))
end

local current = redis.call('HGET', KEYS[1], 'time')
if not current or tonumber(current) <= t then
  redis.call('HSET', KEYS[1], 'time', ARGV[1], 'country', ARGV[2], 'lat', ARGV[3], 'lon', ARGV[4], 'acc', ARGV[5], 'anon', ARGV[6])
end
redis.call('EXPIRE', KEYS[1], ARGV[7])
local context = redis.call('HMGET', KEYS[1], 'ctx', 'ctxat')
if context[1] == ARGV[10] and context[2] and t >= tonumber(context[2]) and t - tonumber(context[2]) < tonumber(ARGV[9]) then
  return 0
end
redis.call('HSET', KEYS[1], 'ctx', ARGV[10], 'ctxat', ARGV[1])

local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local entry = decode(all[i + 1])
  if not entry or days(entry, t) >= #F then redis.call('HDEL', KEYS[2], all[i]) end
end
bump(ARGV[11])
local max = tonumber(ARGV[8])
for i = 12, #ARGV, 3 do
  local feature, field, total = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  bump(field)
  bump(total)
  local prefix = feature .. ':'
  while true do
    local values = {}
    local flat = redis.call('HGETALL', KEYS[2])
    for j = 1, #flat, 2 do
      local name = flat[j]
      if string.sub(name, 1, #prefix) == prefix and name ~= total then
        values[#values + 1] = { field = name, entry = decode(flat[j + 1]) }
      end
    end
    if #values <= max then break end
    local worst
    for _, v in ipairs(values) do
      local count = decayed(v.entry, t)
      if not worst or count < worst.count or (count == worst.count and (v.entry.at < worst.at or (v.entry.at == worst.at and v.field < worst.field))) then
        worst = { field = v.field, count = count, at = v.entry.at }
      end
    end
    redis.call('HDEL', KEYS[2], worst.field)
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[7])
return 1`;
}

/** KEYS: the event set. ARGV: time, unique member, since, ttl, max events. */
export const RECORD_EVENT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[5]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;
