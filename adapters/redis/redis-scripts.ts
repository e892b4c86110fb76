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
`

/**
 * KEYS: record, prepared-set, lock keys (n). ARGV: owner, mode, n, ops…
 * mode 'prepare': check no lock is held by another XID, validate the ops
 * against the keys' current types, take the locks, store the write set.
 * mode 'apply' (one-phase): check and validate, then apply at once.
 * Returns {1} or {0, reason}.
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
    if t == 'string' then
      local v = redis.call('GET', key)
      int = string.match(v, '^%-?%d+$') ~= nil and #v <= 19
    end
    s = { t = t, int = int }
    st[key] = s
  end
  return s
end
for _, o in ipairs(ops) do
  local op, args = o[1], o[2]
  local s = state(args[1])
  if op == 'SET' then
    s.t = 'string'; s.int = string.match(args[2], '^%-?%d+$') ~= nil and #args[2] <= 19
  elseif op == 'DEL' then
    s.t = 'none'; s.int = false
  elseif op == 'INCRBY' then
    if s.t == 'none' then s.t = 'string'; s.int = true
    elseif s.t ~= 'string' or not s.int then return { 0, 'INCRBY on a value that is not an integer: ' .. args[1] } end
  elseif op == 'HSET' or op == 'HDEL' then
    if s.t == 'none' then s.t = 'hash'
    elseif s.t ~= 'hash' then return { 0, 'WRONGTYPE ' .. op .. ' on a key holding a ' .. s.t .. ': ' .. args[1] } end
  else
    return { 0, 'unsupported op ' .. op }
  end
end
if mode == 'apply' then
  for _, o in ipairs(ops) do
    local r = apply(o[1], o[2])
    if type(r) == 'table' and r.err then return { 0, o[1] .. ' failed: ' .. r.err } end
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
