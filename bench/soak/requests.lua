-- The soak's request mix: of every 10 requests, 4 to /, 4 to /items/<n> (a new URL each time: no
-- per-URL state may accumulate), one /readyz (the registered check), one /healthz; one request in
-- two carries an X-Amzn-Trace-Id header with a new trace id.
local counter = 0

request = function()
  counter = counter + 1
  local k = counter % 10
  local path
  if k == 0 then
    path = "/readyz"
  elseif k == 5 then
    path = "/healthz"
  elseif k % 2 == 0 then
    path = "/items/" .. counter
  else
    path = "/"
  end
  local headers = {}
  if counter % 2 == 0 then
    headers["X-Amzn-Trace-Id"] = string.format("Root=1-%08x-%024x;Parent=%016x;Sampled=1", 1700000000, counter, counter)
  end
  return wrk.format("GET", path, headers)
end
