-- wrk script: POST Google Play pushes (one wrapped Pub/Sub body a line), each used once per
-- thread (thread k of N takes lines k, k+N, k+2N ...), all under one OIDC token
-- (BENCH_AUTH_FILE) as one push subscription's would be within its hour.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
  local f = assert(io.open(os.getenv("BENCH_AUTH_FILE")))
  local auth = "Bearer " .. f:read("*l")
  f:close()
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = auth }
  reqs = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_FILE")) do
    if i % nthreads == id then
      reqs[#reqs + 1] = wrk.format("POST", nil, headers, line)
    end
    i = i + 1
  end
  n = 0
end

function request()
  n = n + 1
  if n > #reqs then n = 1 end -- past the end: repeats (duplicates) rather than stall
  return reqs[n]
end
