-- Token bucket (throttle_core/policies/token_bucket.py). ARGV[3]: "<limit> <per second>".
local limit_text, rate_text = string.match(ARGV[3], '^(%S+) (%S+)$')
local limit, per_second = tonumber(limit_text), tonumber(rate_text)
local s, status = load('token_bucket')
if s and not (integral(s.limit) and finite(s.rate) and finite(s.tokens) and finite(s.timer)) then
  s, status = nil, 'bad'
end

local function available()
  if not s then
    return limit
  end
  local elapsed = now - s.timer
  if elapsed <= 0 then
    return math.min(limit, s.tokens)
  end
  return math.min(limit, s.tokens + elapsed * per_second)
end

local function wait_for(avail, n)
  if avail >= n then
    return 0.0
  end
  return (n - avail) / per_second
end

local function result(accepted, left, retry)
  local reset = 0.0
  if left < limit then
    reset = (limit - left) / per_second
  end
  local remaining = 0
  if left > 0 then
    remaining = math.floor(left)
  end
  return reply(accepted, remaining, retry, reset, status)
end

local function save(state_id, left, timer)
  store(string.format(
    '{"type":"token_bucket","v":1,"id":%s,"limit":%s,"rate":%s,"tokens":%s,"timer":%s}',
    cjson.encode(state_id), limit_text, rate_text, num(left), num(timer)),
    (limit - left) / per_second)
end

local function later_timer()
  if s and not (now > s.timer) then
    return s.timer
  end
  return now
end

if op == 'refund' then
  if s then
    save(s.id, math.min(limit, available() + tokens), later_timer())
  end
  return status
end

local avail = available()
if tokens == 0 then
  return result(avail >= 0, avail, wait_for(avail, 1))
end
local wait = wait_for(avail, tokens)
if max_wait and wait > max_wait then
  return result(false, avail, wait)
end
local left = avail - tokens
save(id, left, later_timer())
return result(wait == 0, left, wait)
