-- Sliding-window counter (throttle_core/policies/sliding_window.py); size is the interval. A
-- wait above 0 within max_wait comes back as a refusal; Python raises ReserveNotSupported.
local interval = size
local function head(state_id)
  return '{"type":"sliding_window","v":1,"id":' .. state_id .. ',"interval":' .. size_text
    .. ',"start":'
end
local mine = head(id)

-- The stored window start and the counts of its window and of the one before, the start's
-- text, and the stored state's head.
local first, before, during, first_text, stored
if raw then
  local a, p, c
  if string.find(raw, mine, 1, true) == 1 then
    a, p, c = string.match(raw,
      '^(%-?%d[^,]*),"previous":(%d+),"current":(%d+),"timer":%-?%d[^}]*}$', #mine + 1)
  end
  first = finite(a)
  if first then
    before, during, first_text, stored = p + 0, c + 0, a, mine
  else
    local s = decode('sliding_window', {'interval', 'start', 'timer'}, {'previous', 'current'})
    if s then
      first, before, during, stored = s.start, s.previous, s.current, head(cjson.encode(s.id))
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

-- Exact time until the estimate admits `n`: the infimum, admitted just after.
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

local start_text = clock
if start == first and first_text then
  start_text = first_text
elseif start ~= now then
  start_text = text(start)
end

local function save(state_head)
  store(state_head .. start_text .. ',"previous":' .. format('%d', previous) .. ',"current":'
    .. format('%d', current) .. ',"timer":' .. clock .. '}', start + 2 * interval - now)
end

if op == 'r' then
  if first then
    local at = bound + 0
    local shift = round_half_even((start - floor(at / interval) * interval) / interval)
    if shift == 0 and current ~= 0 then
      current = math.max(0, current - tokens)
      save(stored)
    elseif shift == 1 and previous ~= 0 then
      previous = math.max(0, previous - tokens)
      save(stored)
    end
  end
  return status
end

local need = tokens
if need == 0 then
  need = 1
end
local wait = wait_for(need)
if tokens == 0 or wait > 0 then
  return reply(tokens == 0, wait, start_text .. format(' %d %d', previous, current))
end
current = current + tokens
save(mine)
return reply(true, 0, start_text .. format(' %d %d', previous, current))
