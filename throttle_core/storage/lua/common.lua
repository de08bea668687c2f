-- Shared head of every policy script (the policy's own file is appended after it).
-- KEYS[1]: the state's key. ARGV[1]: "<op> <now> <tokens> <bound>", where op is consume or
-- refund, now is "-" for the server's TIME, and bound is max_wait ("-": none) for a consume
-- or `at` for a refund; ARGV[2]: the state id; ARGV[3]: the policy's parameters, space
-- separated. Floats travel as text both ways ("%.17g" here, repr in Python) so that every
-- value is the exact double the Python policy computes with; arguments and reply are packed
-- into few strings because each one costs the client more than parsing it costs the server.
local key = KEYS[1]
local op, clock, count, bound = string.match(ARGV[1], '^(%a+) (%S+) (%d+) (%S+)$')
local now = tonumber(clock)
local now_text = clock
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  now_text = nil
end
local tokens = tonumber(count)
local max_wait = tonumber(bound)
local at = max_wait
local id = ARGV[2]

-- Text that Python's float() reads back as the same double. Whole numbers (counts, window
-- starts, whole seconds: the common case) take the short way, several times cheaper.
local function num(x)
  if x == math.floor(x) and x > -1e15 and x < 1e15 then
    return string.format('%d', x)
  end
  return string.format('%.17g', x)
end
now_text = now_text or num(now)

local function finite(x)
  return type(x) == 'number' and x == x and x ~= math.huge and x ~= -math.huge
end

local function integral(x)
  return finite(x) and x == math.floor(x)
end

-- Python's round(): to the nearest integer, ties to even.
local function round_half_even(x)
  local f = math.floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 ~= 0) then
    return f + 1
  end
  return f
end

-- The stored state of policy `kind` if it decodes with the right type, version and id, or nil
-- and why not: "" (no state), "bad" (undecodable) or "other:<type>" (another policy's state).
-- Each policy then checks its own fields with `finite` and `integral`.
local function load(kind)
  local raw = redis.call('GET', key)
  if not raw then
    return nil, ''
  end
  local ok, s = pcall(cjson.decode, raw)
  if not ok or type(s) ~= 'table' then
    return nil, 'bad'
  end
  if s.type ~= kind then
    if s.type == 'token_bucket' or s.type == 'fixed_window' or s.type == 'sliding_window' then
      return nil, 'other:' .. s.type
    end
    return nil, 'bad'
  end
  if s.v ~= 1 or type(s.id) ~= 'string' then
    return nil, 'bad'
  end
  return s, ''
end

-- Write a state (`json`: what its Python `to_dict()` makes), expiring after `ttl` seconds
-- rounded up, at least one: the state's `expiration_time`.
local function store(json, ttl)
  redis.call('SET', key, json, 'EX', string.format('%d', math.max(1, math.ceil(ttl))))
end

-- A decision as one line: accepted (1/0), remaining, retry_after, reset_after, now, status.
local function reply(accepted, remaining, retry, reset, status)
  return string.format('%s %d %s %s %s %s', accepted and '1' or '0', remaining, num(retry),
    num(reset), now_text, status)
end
