-- Token bucket (throttle_core/policies/token_bucket.py); rate is the refill rate per second.
local limit_text, rate_text, id = string.match(params, '^(%d+) (%S+) (.+)$')
local limit, rate = limit_text + 0, rate_text + 0
local function head(state_id)
  return '{"type":"token_bucket","v":1,"id":' .. state_id .. ',"limit":' .. limit_text
    .. ',"rate":' .. rate_text .. ',"tokens":'
end
local mine = head(id)

-- Whether a decision could have stored `level` tokens of a bucket of `most` at time `at`
-- refilling at `rate` (TokenBucketState.problem).
local function plausible(most, rate, level, at)
  return rate > 0 and most >= 1 and most <= MAX_COUNT and level >= -MAX_COUNT
    and level <= most and near(at)
end

-- The stored tokens and timer, the timer's text, and the stored state's head.
local level, timer, timer_text, stored
if raw then
  local a, b
  if string.find(raw, mine, 1, true) == 1 then
    a, b = string.match(raw, '^(%-?%d[^,]*),"timer":(%-?%d[^}]*)}$', #mine + 1)
  end
  level, timer = finite(a), finite(b)
  if level and timer and plausible(limit, rate, level, timer) then
    timer_text, stored = b, mine
  else
    level, timer = nil, nil
    local s = decode('token_bucket', {'rate', 'tokens', 'timer'}, {'limit'})
    if s and plausible(s.limit, s.rate, s.tokens, s.timer) then
      level, timer, stored = s.tokens, s.timer, head(cjson.encode(s.id))
    elseif s then
      status = 'range'
    end
  end
end

local avail = limit
if level then
  avail = level
  if now - timer > 0 then
    avail = level + (now - timer) * rate
  end
  if limit < avail then
    avail = limit
  end
end

-- Write `left` tokens (`left_text`) under `state_head`, timed at the later of now and the
-- stored timer.
local function save(state_head, left, left_text)
  local later = clock
  if level and not (now > timer) then
    later = timer_text or text(timer)
  end
  store(state_head .. left_text .. ',"timer":' .. later .. '}', (limit - left) / rate)
end

if op == 'r' then
  if level then
    local back = avail + tokens
    if limit < back then
      back = limit
    end
    save(stored, back, text(back))
    avail = back
  end
  tokens = 0
end

local need = needed()
local wait = 0
if avail < need then
  wait = (need - avail) / rate
end
if tokens == 0 then
  return reply(avail >= 0, wait, text(avail))
end
if beyond(wait) then
  return reply(false, wait, text(avail))
end
local left = avail - tokens
local left_text = text(left)
save(mine, left, left_text)
return reply(wait == 0, wait, left_text)
