-- Shared head of every policy script (the policy's own file is appended after it).
-- KEYS[1]: the state's key. ARGV: op ("consume" | "refund"), now ("" = server TIME), id,
-- tokens, max_wait ("" = no bound) for a consume or `at` for a refund, then the policy's
-- parameters from ARGV[6] on. Floats travel as text both ways ("%.17g" here, repr in Python)
-- so that every value is the exact double the Python policy computes with.
local key = KEYS[1]
local op = ARGV[1]
local now = tonumber(ARGV[2])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local id = ARGV[3]
local tokens = tonumber(ARGV[4])
local max_wait = tonumber(ARGV[5])
local at = max_wait
local limit = tonumber(ARGV[6])
local KINDS = {token_bucket = true, fixed_window = true, sliding_window = true}

local function num(x)
  return string.format('%.17g', x)
end

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

-- The stored state of policy `kind`, or nil and why not: "" (no state), "bad" (undecodable)
-- or "other:<type>" (a state of another policy). `floats` and `ints` name its number fields,
-- `counts` its array of hit counts (if any).
local function load(kind, floats, ints, counts)
  local raw = redis.call('GET', key)
  if not raw then
    return nil, ''
  end
  local ok, s = pcall(cjson.decode, raw)
  if not ok or type(s) ~= 'table' then
    return nil, 'bad'
  end
  if s.type ~= kind then
    if KINDS[s.type] then
      return nil, 'other:' .. s.type
    end
    return nil, 'bad'
  end
  if s.v ~= 1 or type(s.id) ~= 'string' then
    return nil, 'bad'
  end
  for _, f in ipairs(floats) do
    if not finite(s[f]) then
      return nil, 'bad'
    end
  end
  for _, f in ipairs(ints) do
    if not integral(s[f]) then
      return nil, 'bad'
    end
  end
  if counts then
    local hits = s[counts]
    if type(hits) ~= 'table' or #hits == 0 then
      return nil, 'bad'
    end
    for _, h in ipairs(hits) do
      if not integral(h) or h < 0 then
        return nil, 'bad'
      end
    end
  end
  return s, ''
end

-- Write a state as the JSON its Python `to_dict()` makes: `fields` is a list of
-- {name, json text}; the key expires after the state's `expiration_time`.
local function store(kind, state_id, fields, ttl)
  local parts = {'{"type":"', kind, '","v":1,"id":', cjson.encode(state_id)}
  for _, f in ipairs(fields) do
    parts[#parts + 1] = ',"' .. f[1] .. '":' .. f[2]
  end
  parts[#parts + 1] = '}'
  redis.call('SET', key, table.concat(parts), 'EX', string.format('%d', math.max(1, math.ceil(ttl))))
end

local function reply(accepted, remaining, retry, reset, status)
  return {accepted and 1 or 0, remaining, num(retry), num(reset), num(now), status}
end

