-- Shared head of every policy script (the policy's own file is appended after it).
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

-- Text that Python's float() reads back as the same double; whole numbers the cheap way.
local function text(x)
  if x == floor(x) and x > -1e15 and x < 1e15 then
    return format('%d', x)
  end
  return format('%.17g', x)
end

-- The text of a window start: the stored text when the start is the stored one (`first`,
-- `first_text`), the clock's when it is now, else `text(start)`; so a start is never
-- re-rounded on its way back to storage.
local function start_as_text(start, first, first_text)
  if start == first and first_text then
    return first_text
  elseif start == now then
    return clock
  end
  return text(start)
end

-- Python's round(): to the nearest integer, ties to even.
local function round_half_even(x)
  local f = floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 ~= 0) then
    return f + 1
  end
  return f
end

-- Whether time `t` is one a decision at now could have stored.
local function near(t)
  return t >= now - MAX_TTL and t <= now + MAX_TTL
end

-- Whether `x` is a count a decision could have stored.
local function counted(x)
  return x >= 0 and x <= MAX_COUNT
end

-- The stored value decoded in full: the state of policy `kind` if it has the right type,
-- version and id, and the fields named in `numbers` are finite numbers and those in
-- `integers` whole ones; otherwise nil, and `status` says why: "bad" (undecodable) or
-- "other:<type>" (another type's state: Python tells a policy's from an unknown one).
local function decode(kind, numbers, integers)
  local ok, s = pcall(cjson.decode, raw)
  status = 'bad'
  if not ok or type(s) ~= 'table' then
    return nil
  end
  if s.type ~= kind then
    if type(s.type) == 'string' and #s.type <= 40 and string.match(s.type, '^[%w_]+$') then
      status = 'other:' .. s.type
    end
    return nil
  end
  if s.v ~= 1 or type(s.id) ~= 'string' then
    return nil
  end
  for _, name in ipairs(numbers) do
    local x = s[name]
    if type(x) ~= 'number' or not (x > -huge and x < huge) then
      return nil
    end
  end
  for _, name in ipairs(integers) do
    local x = s[name]
    if type(x) ~= 'number' or not (x > -huge and x < huge) or x ~= floor(x) then
      return nil
    end
  end
  status = '-'
  return s
end

-- The finite number in stored text `t` (nil for none).
local function finite(t)
  local x = tonumber(t)
  if x and x > -huge and x < huge then
    return x
  end
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

-- The tokens a decision is judged for: a peek (0 tokens; a refund replies as one) says when
-- one token would be admitted.
local function needed()
  if tokens == 0 then
    return 1
  end
  return tokens
end

-- Whether a wait exceeds max_wait.
local function beyond(wait)
  return max_wait ~= nil and wait > max_wait
end

-- A decision as one line for the Python policy to build its result from: accepted (1/0), now,
-- retry_after, the status, then the policy's `fields`. A refund replies as a peek after it.
local function reply(accepted, retry, fields)
  local retry_text = '0'
  if retry ~= 0 then
    retry_text = text(retry)
  end
  return (accepted and '1 ' or '0 ') .. clock .. ' ' .. retry_text .. ' ' .. status .. ' '
    .. fields
end
