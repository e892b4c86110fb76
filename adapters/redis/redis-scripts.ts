// The Lua scripts of the Redis prepare emulation (see redis-adapter.ts).
// A write set travels as a flat list: op, argument count, arguments…, op, …
// Every op's first argument is its key. Ops: SET k v | DEL k | INCRBY k n |
// HSET k f v [f v …] | HDEL k f [f …].
import { createHash } from 'node:crypto'

const PARSE_AND_APPLY = `
local function parse(list, from)
  local ops, i = {}, from
  while i <= #list do
    local op, n, args = list[i], tonumber(list[i + 1]), {}
    for j = 1, n do args[j] = list[i + 1 + j] end
    ops[#ops + 1] = { op, args }
    i = i + 2 + n
  end
  return ops
end
local function apply(op, args)
  if op == 'SET' then return redis.pcall('SET', args[1], args[2])
  elseif op == 'DEL' then return redis.pcall('DEL', args[1])
  elseif op == 'INCRBY' then return redis.pcall('INCRBY', args[1], args[2])
  elseif op == 'HSET' then return redis.pcall('HSET', unpack(args))
  elseif op == 'HDEL' then return redis.pcall('HDEL', unpack(args))
  end
  return { err = 'unsupported op ' .. op }
end
-- An integer as Redis itself reads one (string2ll): no sign but '-', no leading
-- zero, no '-0', within 64 bits. A looser check let prepare vote yes on an
-- INCRBY that could only fail at commit ('0123', '-0', past 2^63).
local function isint(v)
  if v == '0' then return true end
  local neg = string.sub(v, 1, 1) == '-'
  local d = neg and string.sub(v, 2) or v
  if not string.match(d, '^[1-9]%d*$') then return false end
  if #d ~= 19 then return #d < 19 end
  return d <= (neg and '9223372036854775808' or '9223372036854775807')
end
-- Lua's numbers are doubles: sums are kept approximately, and a value that
-- comes within 2% of the 64-bit limit is refused rather than risked.
local NEAR_LIMIT = 9.0e18
`

/**
 * KEYS: record, prepared-set, lock keys (n). ARGV: owner, mode, n, ops…
 * mode 'prepare': check no lock is held by another XID, validate the ops
 * against the keys' current types, take the locks, store the write set.
 * mode 'apply' (one-phase): check and validate, then apply at once.
 * Returns {1}, {0, reason} (nothing written), or {2, reason} (apply only:
 * written in part).
 */
export const PREPARE_SCRIPT =
  PARSE_AND_APPLY +
  `
local record, set = KEYS[1], KEYS[2]
local owner, mode, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
if mode == 'prepare' and redis.call('EXISTS', record) == 1 then return { 1 } end
for i = 1, n do
  local holder = redis.call('GET', KEYS[2 + i])
  if holder and holder ~= owner then
    return { 0, 'key is locked by another prepared branch: ' .. KEYS[2 + i] .. ' held by ' .. holder }
  end
end
local ops = parse(ARGV, 4)
local st = {}
local function state(key)
  local s = st[key]
  if s == nil then
    local t = redis.call('TYPE', key).ok
    local int = false
    local num = 0
    if t == 'string' then
      local v = redis.call('GET', key)
      int = isint(v)
      if int then num = tonumber(v) end
    end
    s = { t = t, int = int, num = num }
    st[key] = s
  end
  return s
end
for _, o in ipairs(ops) do
  local op, args = o[1], o[2]
  local s = state(args[1])
  if op == 'SET' then
    s.t = 'string'; s.int = isint(args[2]); s.num = s.int and tonumber(args[2]) or 0
  elseif op == 'DEL' then
    s.t = 'none'; s.int = false; s.num = 0
  elseif op == 'INCRBY' then
    if not isint(args[2]) then return { 0, 'INCRBY by a value that is not an integer: ' .. args[2] } end
    if s.t == 'none' then s.t = 'string'; s.int = true; s.num = 0
    elseif s.t ~= 'string' or not s.int then return { 0, 'INCRBY on a value that is not an integer: ' .. args[1] } end
    s.num = s.num + tonumber(args[2])
    if math.abs(s.num) > NEAR_LIMIT then return { 0, 'INCRBY would take the value within 2% of the 64-bit limit: ' .. args[1] } end
  elseif op == 'HSET' or op == 'HDEL' then
    if s.t == 'none' then s.t = 'hash'
    elseif s.t ~= 'hash' then return { 0, 'WRONGTYPE ' .. op .. ' on a key holding a ' .. s.t .. ': ' .. args[1] } end
  else
    return { 0, 'unsupported op ' .. op }
  end
end
if mode == 'apply' then
  for i, o in ipairs(ops) do
    local r = apply(o[1], o[2])
    -- Checked above, so only a key changed by another writer in between can fail here: what ran before stays
    -- (Lua undoes nothing). {2}: applied in part, never a "no" vote, which would be told as rolled back.
    if type(r) == 'table' and r.err then
      if i == 1 then return { 0, o[1] .. ' failed: ' .. r.err } end
      return { 2, o[1] .. ' failed after ' .. (i - 1) .. ' write(s) had been applied: ' .. r.err }
    end
  end
  return { 1 }
end
for i = 1, n do redis.call('SET', KEYS[2 + i], owner) end
local batch = {}
for j = 4, #ARGV do
  batch[#batch + 1] = ARGV[j]
  if #batch == 500 then redis.call('RPUSH', record, unpack(batch)); batch = {} end
end
if #batch > 0 then redis.call('RPUSH', record, unpack(batch)) end
redis.call('SADD', set, owner)
return { 1 }
`

/**
 * KEYS: record, prepared-set. ARGV: owner, lock-key prefix, mode ('commit' |
 * 'rollback'). Applies (commit) the stored write set, releases the locks this
 * XID holds, deletes the record. {0}: no record (already done); {1, errors…}.
 */
export const FINISH_SCRIPT =
  PARSE_AND_APPLY +
  `
local record, set = KEYS[1], KEYS[2]
local owner, lockPrefix, mode = ARGV[1], ARGV[2], ARGV[3]
local items = redis.call('LRANGE', record, 0, -1)
if #items == 0 then
  redis.call('SREM', set, owner)
  return { 0 }
end
local out = { 1 }
local keys = {}
for _, o in ipairs(parse(items, 1)) do
  keys[o[2][1]] = true
  if mode == 'commit' then
    local r = apply(o[1], o[2])
    if type(r) == 'table' and r.err then out[#out + 1] = o[1] .. ' ' .. o[2][1] .. ': ' .. r.err end
  end
end
for k, _ in pairs(keys) do
  local lk = lockPrefix .. k
  if redis.call('GET', lk) == owner then redis.call('DEL', lk) end
end
redis.call('DEL', record)
redis.call('SREM', set, owner)
return out
`

export function sha1(script: string): string {
  return createHash('sha1').update(script).digest('hex')
}
