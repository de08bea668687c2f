-- Shared helpers of every policy script, after the head (head.lua) and the policy's common case.

-- Text that Python's float() reads back as the same double; whole numbers the cheap way.
local function text(x)
  if x == floor(x) and x > -1e15 and x < 1e15 then
    return format('%d', x)
  end
  return format('%.17g', x)
end

-- The text of a window start: the stored text when the start is the stored one (`first`,
-- `first_text`), the clock's when it is now, else `text(start)`; so a start is never
-- re-rounded on its way back to storage.
local function start_as_text(start, first, first_text)
  if start == first and first_text then
    return first_text
  elseif start == now then
    return clock
  end
  return text(start)
end

-- Python's round(): to the nearest integer, ties to even.
local function round_half_even(x)
  local f = floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 ~= 0) then
    return f + 1
  end
  return f
end

-- Whether time `t` is one a decision at now could have stored.
local function near(t)
  return t >= now - MAX_TTL and t <= now + MAX_TTL
end

-- Whether `x` is a count a decision could have stored.
local function counted(x)
  return x >= 0 and x <= MAX_COUNT
end

-- The stored value decoded in full: the state of policy `kind` if it has the right type,
-- version and id, and the fields named in `numbers` are finite numbers and those in
-- `integers` whole ones; otherwise nil, and `status` says why: "bad" (undecodable) or
-- "other:<type>" (another type's state: Python tells a policy's from an unknown one).
local function decode(kind, numbers, integers)
  local ok, s = pcall(cjson.decode, raw)
  status = 'bad'
  if not ok or type(s) ~= 'table' then
    return nil
  end
  if s.type ~= kind then
    if type(s.type) == 'string' and #s.type <= 40 and string.match(s.type, '^[%w_]+$') then
      status = 'other:' .. s.type
    end
    return nil
  end
  if s.v ~= 1 or type(s.id) ~= 'string' then
    return nil
  end
  for _, name in ipairs(numbers) do
    local x = s[name]
    if type(x) ~= 'number' or not (x > -huge and x < huge) then
      return nil
    end
  end
  for _, name in ipairs(integers) do
    local x = s[name]
    if type(x) ~= 'number' or not (x > -huge and x < huge) or x ~= floor(x) then
      return nil
    end
  end
  status = '-'
  return s
end

-- The finite number in stored text `t` (nil for none).
local function finite(t)
  local x = tonumber(t)
  if x and x > -huge and x < huge then
    return x
  end
end

-- The tokens a decision is judged for: a peek (0 tokens; a refund replies as one) says when
-- one token would be admitted.
local function needed()
  if tokens == 0 then
    return 1
  end
  return tokens
end

-- Whether a wait exceeds max_wait.
local function beyond(wait)
  return max_wait ~= nil and wait > max_wait
end

-- A decision as one line for the Python policy to build its result from: accepted (1/0), now,
-- retry_after, the status, then the policy's `fields`. A refund replies as a peek after it.
local function reply(accepted, retry, fields)
  local retry_text = '0'
  if retry ~= 0 then
    retry_text = text(retry)
  end
  return (accepted and '1 ' or '0 ') .. clock .. ' ' .. retry_text .. ' ' .. status .. ' '
    .. fields
end
