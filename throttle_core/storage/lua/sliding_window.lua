-- Sliding-window counter (throttle_core/policies/sliding_window.py).
-- ARGV[3]: "<limit> <interval>". A wait above 0 within max_wait comes back as a refusal;
-- Python raises ReserveNotSupported.
local limit, interval_text = string.match(ARGV[3], '^(%S+) (%S+)$')
local interval = tonumber(interval_text)
limit = tonumber(limit)
local s, status = load('sliding_window')
if s and not (finite(s.interval) and finite(s.start) and integral(s.previous)
    and integral(s.current) and finite(s.timer)) then
  s, status = nil, 'bad'
end

-- (start, previous, current) of the window holding `now`.
local function windows()
  local start = math.floor(now / interval) * interval
  if not s then
    return start, 0, 0
  end
  local shift = round_half_even((start - s.start) / interval)
  if shift <= 0 then
    return s.start, s.previous, s.current
  end
  if shift == 1 then
    return start, s.current, 0
  end
  return start, 0, 0
end

local function estimate(start, previous, current)
  local elapsed = 0.0
  if now > start then
    elapsed = now - start
  end
  return math.floor(previous * (1.0 - elapsed / interval) + current)
end

-- Exact time until the estimate admits `n`: the infimum, admitted just after.
local function wait_for(start, previous, current, n)
  if estimate(start, previous, current) + n <= limit then
    return 0.0
  end
  local room = limit - n + 1 - current
  local t
  if room > 0 then
    t = start + interval * (1.0 - room / previous)
  else
    room = limit - n + 1
    t = start + interval
    if current >= room then
      t = t + interval * (1.0 - room / current)
    end
  end
  if t > now then
    return t - now
  end
  return 0.0
end

local function result(accepted, start, previous, current, retry)
  local guess = estimate(start, previous, current)
  local reset = wait_for(start, previous, current, limit)
  local remaining = 0
  if guess < limit then
    remaining = limit - guess
  end
  return reply(accepted, remaining, retry, reset, status)
end

local function save(state_id, start, previous, current)
  store(string.format(
    '{"type":"sliding_window","v":1,"id":%s,"interval":%s,"start":%s,"previous":%s,'
      .. '"current":%s,"timer":%s}',
    cjson.encode(state_id), interval_text, num(start), num(previous), num(current), now_text),
    start + 2 * interval - now)
end

local start, previous, current = windows()

if op == 'refund' then
  if s then
    local shift = round_half_even((start - math.floor(at / interval) * interval) / interval)
    if shift == 0 and current ~= 0 then
      save(s.id, start, previous, math.max(0, current - tokens))
    elseif shift == 1 and previous ~= 0 then
      save(s.id, start, math.max(0, previous - tokens), current)
    end
  end
  return status
end

local wait = wait_for(start, previous, current, math.max(tokens, 1))
if tokens == 0 or wait > 0.0 then
  return result(tokens == 0, start, previous, current, wait)
end
current = current + tokens
save(id, start, previous, current)
return result(true, start, previous, current, 0.0)
