-- wrk script: each connection waits PACE_MS milliseconds (2 unless set) before each of its requests,
-- so that the load stays near connections × 1000 / PACE_MS requests/s whatever the app's speed: every
-- variant is measured at the same request rate, below saturation, as most apps run.
local pace = tonumber(os.getenv("PACE_MS") or "2")

function delay()
  return pace
end
