-- GCRA (throttle_core/policies/gcra.py); params: limit (the burst), period (seconds a token
-- takes). The theoretical arrival time is base + count * period, computed as Python does.
local limit_text, period_text, id = string.match(params, '^(%d+) (%S+) (.+)$')
local limit, period = limit_text + 0, period_text + 0
local function head(state_id)
  return '{"type":"gcra","v":1,"id":' .. state_id .. ',"limit":' .. limit_text
    .. ',"period":' .. period_text .. ',"base":'
end
local mine = head(id)

-- Whether a decision could have stored `taken` tokens since `from` at one per `step`, for a
-- burst of `most`, decided at `at` (GCRAState.problem).
local function plausible(most, step, from, taken, at)
  return step > 0 and most >= 1 and most <= MAX_COUNT and taken == floor(taken)
    and counted(taken) and near(from) and near(at)
end

-- The stored base and count, and the stored state's head.
local base, taken, stored
if raw then
  local a, b, c
  if string.find(raw, mine, 1, true) == 1 then
    a, b, c = string.match(raw, '^(%-?%d[^,]*),"count":(%d+),"timer":(%-?%d[^}]*)}$', #mine + 1)
  end
  local timer
  base, taken, timer = finite(a), finite(b), finite(c)
  if base and taken and timer and plausible(limit, period, base, taken, timer) then
    stored = mine
  else
    base, taken = nil, nil
    local s = decode('gcra', {'period', 'base', 'timer'}, {'limit', 'count'})
    if s and plausible(s.limit, s.period, s.base, s.count, s.timer) then
      base, taken, stored = s.base, s.count, head(cjson.encode(s.id))
    elseif s then
      status = 'range'
    end
  end
end

-- Base and count at now: the stored ones while something is owed, else now and none.
local from, owed = now, 0
if base and base + taken * period > now then
  from, owed = base, taken
end

local function admitted_at(n)
  return from + (owed + n - limit) * period
end

-- Write `count` tokens taken since `from` under `state_head`.
local function save(state_head, count_after)
  store(state_head .. text(from) .. ',"count":' .. text(count_after) .. ',"timer":' .. clock
    .. '}', from + count_after * period - now)
end

if op == 'r' then
  if owed > 0 then
    local left = 0
    if owed > tokens then
      left = owed - tokens
    end
    save(stored, left)
    owed = left
    if from + owed * period <= now then
      from, owed = now, 0
    end
  end
  tokens = 0
end

local need = needed()
local at = admitted_at(need)
local wait = 0
if at > now then
  wait = at - now
end
if tokens == 0 then
  return reply(admitted_at(0) <= now, wait, text(from) .. ' ' .. text(owed))
end
if beyond(wait) then
  return reply(false, wait, text(from) .. ' ' .. text(owed))
end
save(mine, owed + tokens)
return reply(wait == 0, wait, text(from) .. ' ' .. text(owed + tokens))
