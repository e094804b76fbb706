-- Pipelined load for wrk: every write carries `depth` requests back to back (default 16), so the
-- server reads them in one go and must answer in order. wrk counts each response as a request and
-- records one latency sample per batch (until the batch's last response arrives).
-- Usage: wrk -s bench/pipeline.lua http://127.0.0.1:8080/ -- 16
local depth = 16
local batch

init = function(args)
  depth = tonumber(args[1]) or depth
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
