-- wrk script: POST pre-signed Stripe events, each used once per thread.
-- Thread k of N takes lines k, k+N, k+2N ... of the file named by BENCH_FILE.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
  reqs = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_FILE")) do
    if i % nthreads == id then
      local tab = line:find("\t", 1, true)
      local sig = line:sub(1, tab - 1)
      local body = line:sub(tab + 1)
      reqs[#reqs + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json", ["Stripe-Signature"] = sig }, body)
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
