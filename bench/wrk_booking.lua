-- POST /bookings with a distinct attendee token per request.
-- wrk ... -s bench/wrk_booking.lua URL -- TOKENS_FILE EVENT_ID
-- Thread i of n takes tokens i, i+n, i+2n, ... so no two requests share an attendee.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_index", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(tokens, line) end
  end
  body = '{"event_id": ' .. args[2] .. '}'
  stride = tonumber(args[3])
  cursor = thread_index + 1
  bad = 0
end

function request()
  local token = tokens[cursor]
  cursor = cursor + stride
  if cursor > #tokens then cursor = thread_index + 1 end  -- wrapped: repeats answer 400
  return wrk.format("POST", "/bookings",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

function response(status, headers, body)
  if status ~= 201 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("bad") end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"non_expected": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
