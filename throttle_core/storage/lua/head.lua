-- Shared head of every policy script: its arguments, its clock and the stored value. A script is
-- this head, then the policy's own file with the shared helpers (common.lua) before it or at
-- its line "-- [common.lua]": every call makes the helpers' ten closures anew, so a common
-- case decided above that line, using only the head, costs less.
--
-- KEYS[1]: the state's key. ARGV[1], one string because every extra argument costs the client
-- more than splitting it costs the server: "<op> <tokens> <when> <clock> <params> <id>". op is
-- c (consume) or r (refund); when is max_wait for a consume ("-": no bound) and the time the
-- tokens were booked for in a refund; clock is now, or "-" for the server's TIME; params are
-- the policy's own (its `server_args()`, read by its script from `params`); id is the state id
-- as a JSON string. Floats travel as text both ways ("%.17g" here, repr in Python), so every
-- value is the exact double the Python policy computes with.
--
-- The stored value is the state's JSON exactly as Python's `encode_state` writes it. Each
-- policy reads that layout with one pattern (a third of what cjson.decode costs) and decodes
-- anything else in full with `decode`. The arithmetic of the result (remaining, reset_after)
-- stays in the Python policy: the reply carries what it is computed from.
local key = KEYS[1]
local op, count, when, clock, params = string.match(ARGV[1], '^(%a) (%d+) (%S+) (%S+) (.+)$')
local max_wait, refund_at = nil, nil
if op == 'r' then
  refund_at = when + 0
elseif when ~= '-' then
  max_wait = when + 0
end
if clock == '-' then
  local t = redis.call('TIME')
  local micros = t[2]
  if #micros < 6 then
    micros = string.sub('00000' .. micros, -6)
  end
  clock = t[1] .. '.' .. micros
end
local now, tokens = clock + 0, count + 0
local floor, format, huge = math.floor, string.format, math.huge
-- The bounds of what a decision stores (throttle_core/policies/base.py): counts up to 2**53,
-- times within MAX_TTL_SECONDS of now.
local MAX_COUNT, MAX_TTL = 9007199254740992, 10000000000
-- The status says what was skipped: "-" nothing; "bad" undecodable; "range" numbers no
-- decision writes; "kind" a value of another Redis type; "other:<type>" another policy's.
local status = '-'
local raw = redis.pcall('GET', key)
if type(raw) == 'table' and raw.err then
  raw, status = false, 'kind'
end

-- Write a state, expiring after `ttl` seconds rounded up, at least one: its `expiration_time`.
local function store(json, ttl)
  local seconds = math.ceil(ttl)
  if seconds < 1 then
    seconds = 1
  elseif seconds > MAX_TTL then
    seconds = MAX_TTL
  end
  redis.call('SET', key, json, 'EX', format('%d', seconds))
end
