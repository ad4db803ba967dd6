-- wrk script: POST pre-signed App Store notifications (one JSON body a line),
-- each used once per thread; thread k of N takes lines k, k+N, k+2N ...
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
  reqs = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_FILE")) do
    if i % nthreads == id then
      reqs[#reqs + 1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, line)
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
