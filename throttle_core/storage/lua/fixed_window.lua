-- Fixed window (throttle_core/policies/fixed_window.py); params: limit, interval, align (clock
-- or first_hit).
local limit_text, interval_text, align, id = string.match(params, '^(%d+) (%S+) (%S+) (.+)$')
local limit, interval = limit_text + 0, interval_text + 0
-- The head of this state's JSON (`head(id)`, below, written out: the helpers are not made yet).
local mine = '{"type":"fixed_window","v":1,"id":' .. id .. ',"interval":' .. interval_text
  .. ',"start":'

-- The stored window start, counts ("3", or "3,0,2" with booked windows) and timer as texts,
-- when the value has the usual layout, this state's id and numbers written as plain decimals.
local a, h, b
if raw and string.find(raw, mine, 1, true) == 1 then
  a, h, b = string.match(raw,
    '^(%-?%d+%.?%d*),"hits":%[(%d[%d,]*)%],"timer":(%-?%d+%.?%d*)}$', #mine + 1)
end

-- The common case, decided before the shared helpers are made: a consume of at least one
-- token on one window (nothing booked after it) that is still the current one and has room
-- for the tokens, so no wait (and max_wait, never negative, does not matter). It stores and
-- replies what the general path below does for that case, which it decides too when a check
-- fails: those of `plausible` that such a window can fail (the interval is the policy's,
-- positive and at most a century, so the window starts within an interval of now or after it;
-- a count with room is below the limit, at most 2**53).
if a and op == 'c' and tokens > 0 and not string.find(h, ',', 1, true)
    and h + tokens <= limit then
  local start, timer = a + 0, b + 0
  local current
  if align == 'clock' then
    current = start == floor(now / interval) * interval
  else
    current = now < start + interval and floor((now - start) / interval) <= 0
  end
  if current and start + interval - now <= MAX_TTL
      and timer >= now - MAX_TTL and timer <= now + MAX_TTL then
    local hits = format('%d', h + tokens)
    store(mine .. a .. ',"hits":[' .. hits .. '],"timer":' .. clock .. '}', start + interval - now)
    return '1 ' .. clock .. ' 0 ' .. status .. ' ' .. a .. ' ' .. hits
  end
end

-- [common.lua]

-- The head of the JSON of state `state_id` (a JSON string).
local function head(state_id)
  return '{"type":"fixed_window","v":1,"id":' .. state_id .. ',"interval":' .. interval_text
    .. ',"start":'
end

-- Whether a decision could have stored windows of `length` from `from` holding `counts` at
-- time `at` (FixedWindowState.problem).
local function plausible(length, from, counts, at)
  if not (length > 0 and near(from) and near(at)
      and from + #counts * length - now <= MAX_TTL) then
    return false
  end
  for _, n in ipairs(counts) do
    if not counted(n) then
      return false
    end
  end
  return true
end

-- The stored window start and counts (the current window, then booked ones), the start's
-- text, and the stored state's head.
local first, booked, first_text, stored
if raw then
  first = finite(a)
  local last = finite(b)
  if first and last and not string.find(h, ',', 1, true) then
    booked = {h + 0}
  elseif first and last and not (string.find(h, ',,', 1, true) or string.sub(h, -1) == ',') then
    booked = {}
    for count in string.gmatch(h, '%d+') do
      booked[#booked + 1] = count + 0
    end
  end
  if booked and plausible(interval, first, booked, last) then
    first_text, stored = a, mine
  else
    first, booked = nil, nil
    local s = decode('fixed_window', {'interval', 'start', 'timer'}, {})
    -- Counts are written as plain digits (from_dict refuses 1.0, which cjson reads as 1).
    local written = string.match(raw, '"hits"%s*:%s*(%b[])')
    if s and not (written and string.find(written, '^%[[%d,%s]*%]$')) then
      s, status = nil, 'bad'
    end
    if s and type(s.hits) == 'table' and #s.hits > 0 then
      first, booked, stored = s.start, s.hits, head(cjson.encode(s.id))
      for _, count in ipairs(booked) do
        if type(count) ~= 'number' or count < 0 or count >= huge or count ~= floor(count) then
          first, booked, status = nil, nil, 'bad'
          break
        end
      end
      if booked and not plausible(s.interval, first, booked, s.timer) then
        first, booked, status = nil, nil, 'range'
      end
    elseif s then
      status = 'bad'
    end
  end
end

local function tail(hits, shift)
  local rest = {}
  for i = shift + 1, #hits do
    rest[#rest + 1] = hits[i]
  end
  return rest
end

-- The current window's start and the counts of it and of the booked windows after it.
local start, hits
if align == 'clock' then
  start = floor(now / interval) * interval
  if not booked then
    hits = {0}
  else
    local shift = round_half_even((start - first) / interval)
    if shift <= 0 then
      start, hits = first, booked
    else
      hits = tail(booked, shift)
      if #hits == 0 then
        hits = {0}
      end
    end
  end
elseif not booked or now >= first + #booked * interval then
  start, hits = now, {0}
else
  local shift = math.max(0, floor((now - first) / interval))
  start, hits = first + shift * interval, tail(booked, shift)
end

local start_text = start_as_text(start, first, first_text)

-- The counts as stored ("3,0,2") and as replied ("3 0 2").
local function counts()
  if #hits == 1 then
    local only = format('%d', hits[1])
    return only, only
  end
  local texts = {}
  for i, count in ipairs(hits) do
    texts[i] = format('%d', count)
  end
  return table.concat(texts, ','), table.concat(texts, ' ')
end

local function save(state_head, stored_counts)
  store(state_head .. start_text .. ',"hits":[' .. stored_counts .. '],"timer":' .. clock .. '}',
    start + #hits * interval - now)
end

if op == 'r' then
  if booked then
    local at = refund_at
    local k = floor((at - start) / interval + 1e-9)
    if k >= 0 and k < #hits and hits[k + 1] ~= 0 then
      hits[k + 1] = math.max(0, hits[k + 1] - tokens)
      save(stored, (counts()))
    end
  end
  tokens = 0
end

local k = 0
local need = needed()
while k < #hits and hits[k + 1] + need > limit do
  k = k + 1
end
local wait = 0
if k > 0 then
  wait = start + k * interval - now
end
if tokens == 0 or beyond(wait) then
  local _, spaced = counts()
  return reply(tokens == 0, wait, start_text .. ' ' .. spaced)
end
for i = #hits + 1, k + 1 do
  hits[i] = 0
end
hits[k + 1] = hits[k + 1] + tokens
local stored_counts, spaced = counts()
save(mine, stored_counts)
return reply(k == 0, wait, start_text .. ' ' .. spaced)
