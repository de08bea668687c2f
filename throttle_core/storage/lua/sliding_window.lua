-- Sliding-window counter (throttle_core/policies/sliding_window.py); params: limit, interval. The
-- decision is the estimate's at now; a refusal is never a booking (Python's reserve() raises
-- ReserveNotSupported for one within max_wait).
local limit_text, interval_text, id = string.match(params, '^(%d+) (%S+) (.+)$')
local limit, interval = limit_text + 0, interval_text + 0
local function head(state_id)
  return '{"type":"sliding_window","v":1,"id":' .. state_id .. ',"interval":' .. interval_text
    .. ',"start":'
end
local mine = head(id)

-- The stored window start and the counts of its window and of the one before, the start's
-- text, and the stored state's head.
-- Whether a decision could have stored counts `p` and `c` of windows of `length` from `from`
-- at time `at` (SlidingWindowState.problem).
local function plausible(length, from, p, c, at)
  return length > 0 and counted(p) and counted(c) and near(from) and near(at)
end

local first, before, during, first_text, stored
if raw then
  local a, p, c, b
  if string.find(raw, mine, 1, true) == 1 then
    a, p, c, b = string.match(raw,
      '^(%-?%d[^,]*),"previous":(%d+),"current":(%d+),"timer":(%-?%d[^}]*)}$', #mine + 1)
  end
  first = finite(a)
  local last = finite(b)
  if first and last and plausible(interval, first, p + 0, c + 0, last) then
    before, during, first_text, stored = p + 0, c + 0, a, mine
  else
    first = nil
    local s = decode('sliding_window', {'interval', 'start', 'timer'}, {'previous', 'current'})
    if s and plausible(s.interval, s.start, s.previous, s.current, s.timer) then
      first, before, during, stored = s.start, s.previous, s.current, head(cjson.encode(s.id))
    elseif s then
      status = 'range'
    end
  end
end

-- (start, previous, current) of the window holding `now`.
local start = floor(now / interval) * interval
local previous, current = 0, 0
if first then
  local shift = round_half_even((start - first) / interval)
  if shift <= 0 then
    start, previous, current = first, before, during
  elseif shift == 1 then
    previous = during
  end
end

local function estimate()
  local elapsed = 0
  if now > start then
    elapsed = now - start
  end
  return floor(previous * (1.0 - elapsed / interval) + current)
end

-- Exact time until the estimate admits `n`: 0 when it admits them now, else the wait to the
-- infimum (admitted at any moment after it; 0 at the infimum itself).
local function wait_for(n)
  if estimate() + n <= limit then
    return 0
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
  return 0
end

local start_text = start_as_text(start, first, first_text)

local function save(state_head)
  store(state_head .. start_text .. ',"previous":' .. format('%d', previous) .. ',"current":'
    .. format('%d', current) .. ',"timer":' .. clock .. '}', start + 2 * interval - now)
end

if op == 'r' then
  if first then
    local at = refund_at
    local shift = round_half_even((start - floor(at / interval) * interval) / interval)
    if shift == 0 and current ~= 0 then
      current = math.max(0, current - tokens)
      save(stored)
    elseif shift == 1 and previous ~= 0 then
      previous = math.max(0, previous - tokens)
      save(stored)
    end
  end
  tokens = 0
end

local need = needed()
if tokens == 0 or estimate() + tokens > limit then
  return reply(tokens == 0, wait_for(need), start_text .. format(' %d %d', previous, current))
end
current = current + tokens
save(mine)
return reply(true, 0, start_text .. format(' %d %d', previous, current))
