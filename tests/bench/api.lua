-- wrk script for the app-facing API. BENCH_MODE=get: GET /v1/users/{id} of
-- BENCH_USERS users in turn; BENCH_MODE=spend: POST .../spend of 1 credit
-- with a unique idempotency key per request. BENCH_KEY is the API key.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  mode = os.getenv("BENCH_MODE") or "get"
  users = tonumber(os.getenv("BENCH_USERS") or "1000")
  auth = "Bearer " .. os.getenv("BENCH_KEY")
  n = 0
end

function request()
  n = n + 1
  local user = "bench_user_" .. (n % users)
  if mode == "get" then
    return wrk.format("GET", "/v1/users/" .. user, { ["Authorization"] = auth })
  end
  local body = string.format('{"amount":1,"idempotency_key":"t%d-%d"}', id, n)
  return wrk.format("POST", "/v1/users/" .. user .. "/spend",
    { ["Authorization"] = auth, ["Content-Type"] = "application/json" }, body)
end
