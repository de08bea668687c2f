-- Fixed window (throttle_core/policies/fixed_window.py). ARGV[3]: "<limit> <interval> <align>".
local limit, interval_text, align = string.match(ARGV[3], '^(%S+) (%S+) (%S+)$')
local interval = tonumber(interval_text)
limit = tonumber(limit)
local function valid_counts(hits)
  if type(hits) ~= 'table' or #hits == 0 then
    return false
  end
  for _, h in ipairs(hits) do
    if not integral(h) or h < 0 then
      return false
    end
  end
  return true
end

local s, status = load('fixed_window')
if s and not (finite(s.interval) and finite(s.start) and valid_counts(s.hits) and finite(s.timer)) then
  s, status = nil, 'bad'
end

local function tail(hits, shift)
  local rest = {}
  for i = shift + 1, #hits do
    rest[#rest + 1] = hits[i]
  end
  return rest
end

-- The current window's start and the counts of it and of the booked windows after it.
local function windows()
  if align == 'clock' then
    local start = math.floor(now / interval) * interval
    if not s then
      return start, {0}
    end
    local shift = round_half_even((start - s.start) / interval)
    if shift <= 0 then
      return s.start, tail(s.hits, 0)
    end
    local rest = tail(s.hits, shift)
    if #rest == 0 then
      rest = {0}
    end
    return start, rest
  end
  if not s or now >= s.start + #s.hits * interval then
    return now, {0}
  end
  local shift = math.max(0, math.floor((now - s.start) / interval))
  return s.start + shift * interval, tail(s.hits, shift)
end

local function result(accepted, start, hits, retry)
  local last = 0
  for i, count in ipairs(hits) do
    if count ~= 0 then
      last = i
    end
  end
  local reset = 0.0
  if last > 0 then
    reset = start + last * interval - now
  end
  return reply(accepted, math.max(0, limit - hits[1]), retry, math.max(0.0, reset), status)
end

local function save(state_id, start, hits)
  local texts = {}
  for i, count in ipairs(hits) do
    texts[i] = num(count)
  end
  store(string.format(
    '{"type":"fixed_window","v":1,"id":%s,"interval":%s,"start":%s,"hits":[%s],"timer":%s}',
    cjson.encode(state_id), interval_text, num(start), table.concat(texts, ','), now_text),
    start + #hits * interval - now)
end

local start, hits = windows()

if op == 'refund' then
  if s then
    local k = math.floor((at - start) / interval + 1e-9)
    if k >= 0 and k < #hits and hits[k + 1] ~= 0 then
      hits[k + 1] = math.max(0, hits[k + 1] - tokens)
      while #hits > 1 and hits[#hits] == 0 do
        hits[#hits] = nil
      end
      save(s.id, start, hits)
    end
  end
  return status
end

local k = 0
local need = math.max(tokens, 1)
while k < #hits and hits[k + 1] + need > limit do
  k = k + 1
end
local wait = 0.0
if k > 0 then
  wait = start + k * interval - now
end
if tokens == 0 then
  return result(true, start, hits, wait)
end
if max_wait and wait > max_wait then
  return result(false, start, hits, wait)
end
for i = #hits + 1, k + 1 do
  hits[i] = 0
end
hits[k + 1] = hits[k + 1] + tokens
save(id, start, hits)
return result(k == 0, start, hits, wait)
