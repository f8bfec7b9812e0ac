/**
 * One Lua script per operation, each atomic on the server. Times inside the scripts are integer
 * microseconds: the server's `TIME` unless the caller passes its own (ARGV[1] non-empty), so
 * every replica judges by one clock. Numbers go back to the client as integers, which is exact
 * for integral values below 2^53 (µs since the epoch are about 2^51).
 *
 * Per-caller kinds keep an index sorted set (member = caller key, score = expiry µs) that
 * counts live keys against the cap: a new key first drops expired index entries, then is
 * refused (-1) when the index is still full.
 */

const PRELUDE = `
local function fmt(n) return string.format('%.0f', n) end
local function now_us(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function ttl_ms(us) return math.floor(us / 1000) + 1000 end
-- The index lives as long as its longest-lived member.
local function index_put(idx, member, expires, now)
  redis.call('ZADD', idx, fmt(expires), member)
  local ttl = ttl_ms(expires - now)
  local cur = redis.call('PTTL', idx)
  if cur == -1 or cur < ttl then redis.call('PEXPIRE', idx, ttl) end
end
local function admit(idx, member, now, cap)
  if redis.call('ZSCORE', idx, member) then return true end
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. fmt(now))
  return redis.call('ZCARD', idx) < cap
end
`;

/**
 * KEYS: hits, index. ARGV: now, limit, window µs, cap, member, unique.
 * Returns {allowed (1, 0, or -1 = capacity), count, now}.
 */
export const WINDOW_ACQUIRE = `${PRELUDE}
local now = now_us(ARGV[1])
local limit, window = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. fmt(now - window))
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then return {0, count, now} end
if count == 0 and not admit(KEYS[2], ARGV[5], now, tonumber(ARGV[4])) then return {-1, 0, now} end
redis.call('ZADD', KEYS[1], fmt(now), fmt(now) .. ':' .. ARGV[6])
redis.call('PEXPIRE', KEYS[1], ttl_ms(window))
index_put(KEYS[2], ARGV[5], now + window, now)
return {1, count + 1, now}
`;

/**
 * KEYS: denies, open-since, index. ARGV: now, cooldown µs, member.
 * Returns {open (1/0), remaining µs, now}; closes (and forgets the denies) after the cooldown.
 */
export const BREAKER_CHECK = `${PRELUDE}
local now = now_us(ARGV[1])
local cooldown = tonumber(ARGV[2])
local since = redis.call('GET', KEYS[2])
if not since then return {0, 0, now} end
local elapsed = now - tonumber(since)
if elapsed < cooldown then return {1, cooldown - elapsed, now} end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[3])
return {0, 0, now}
`;

/**
 * KEYS: denies, open-since, index. ARGV: now, threshold, window µs, cooldown µs, cap, member, unique.
 * Returns {opened (1, 0, or -1 = capacity), denies, now}.
 */
export const BREAKER_RECORD_DENY = `${PRELUDE}
local now = now_us(ARGV[1])
local threshold, window, cooldown = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. fmt(now - window))
local count = redis.call('ZCARD', KEYS[1])
if count == 0 and redis.call('EXISTS', KEYS[2]) == 0
  and not admit(KEYS[3], ARGV[6], now, tonumber(ARGV[5])) then return {-1, 0, now} end
redis.call('ZADD', KEYS[1], fmt(now), fmt(now) .. ':' .. ARGV[7])
count = count + 1
redis.call('PEXPIRE', KEYS[1], ttl_ms(window))
local opened = 0
if count >= threshold then
  redis.call('SET', KEYS[2], fmt(now), 'PX', ttl_ms(cooldown + window))
  opened = 1
end
local expires = now + window
local since = redis.call('GET', KEYS[2])
if since and tonumber(since) + cooldown > expires then expires = tonumber(since) + cooldown end
index_put(KEYS[3], ARGV[6], expires, now)
return {opened, count, now}
`;

/** Members are `time:score:unique`; the running sum lives beside the set. */
const RISK_PRUNE = `
local function score_of(m) return tonumber(string.match(m, '^[^:]*:([^:]*):')) end
local function prune_and_sum(entries, sumkey, cutoff)
  local raw = redis.call('GET', sumkey)
  local sum
  if raw then
    sum = tonumber(raw)
    local old = redis.call('ZRANGEBYSCORE', entries, '-inf', '(' .. fmt(cutoff))
    for _, m in ipairs(old) do sum = sum - score_of(m) end
    if #old > 0 then redis.call('ZREMRANGEBYSCORE', entries, '-inf', '(' .. fmt(cutoff)) end
  else
    redis.call('ZREMRANGEBYSCORE', entries, '-inf', '(' .. fmt(cutoff))
    sum = 0
    for _, m in ipairs(redis.call('ZRANGE', entries, 0, -1)) do sum = sum + score_of(m) end
  end
  local count = redis.call('ZCARD', entries)
  if count == 0 then sum = 0 end
  return sum, count
end
`;

/**
 * KEYS: entries, sum, index. ARGV: now, score, window µs, cap, member, unique.
 * Returns {ok (1, or -1 = capacity), sum, count, now}.
 */
export const RISK_ADD = `${PRELUDE}${RISK_PRUNE}
local now = now_us(ARGV[1])
local score, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local sum, count = prune_and_sum(KEYS[1], KEYS[2], now - window)
if count == 0 and not admit(KEYS[3], ARGV[5], now, tonumber(ARGV[4])) then return {-1, 0, 0, now} end
redis.call('ZADD', KEYS[1], fmt(now), fmt(now) .. ':' .. ARGV[2] .. ':' .. ARGV[6])
sum = sum + score
count = count + 1
redis.call('SET', KEYS[2], fmt(sum), 'PX', ttl_ms(window))
redis.call('PEXPIRE', KEYS[1], ttl_ms(window))
index_put(KEYS[3], ARGV[5], now + window, now)
return {1, sum, count, now}
`;

/** KEYS: entries, sum. ARGV: now, window µs. Returns {sum, count, now}; records nothing. */
export const RISK_TOTAL = `${PRELUDE}${RISK_PRUNE}
local now = now_us(ARGV[1])
local window = tonumber(ARGV[2])
local sum = 0
local live = redis.call('ZRANGEBYSCORE', KEYS[1], fmt(now - window), '+inf')
for _, m in ipairs(live) do sum = sum + score_of(m) end
return {sum, #live, now}
`;

/** KEYS: nonce. ARGV: expires-at ms, grace ms. Returns 1 when this call consumed it. */
export const NONCE_CONSUME = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = math.max(tonumber(ARGV[1]) - now, 0) + tonumber(ARGV[2])
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', string.format('%.0f', ttl)) then return 1 end
return 0
`;

/** KEYS: flag, index. ARGV: name, value, ttl ms ('' = never). */
export const FLAG_SET = `
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], '+inf', ARGV[1])
else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('ZADD', KEYS[2], string.format('%.0f', now + tonumber(ARGV[3])), ARGV[1])
end
return 1
`;

/** KEYS: flag, index. ARGV: name. Returns 1 when it was set. */
export const FLAG_DELETE = `
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
`;

/**
 * KEYS: index. ARGV: key prefix of flag values. Returns {name, value, expiry ms or -1, …} for
 * every live flag, dropping index entries whose flag has expired.
 */
export const FLAG_LIST = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
local out = {}
local names = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #names, 2 do
  local value = redis.call('GET', ARGV[1] .. names[i])
  if value then
    local score = names[i + 1]
    if score == 'inf' then score = '-1' end
    table.insert(out, names[i]); table.insert(out, value); table.insert(out, score)
  else
    redis.call('ZREM', KEYS[1], names[i])
  end
end
return out
`;
