-- Per-function counters for the dashboard, loaded before finish_tasks.lua: one hash per function, named after
-- the stats hash (STATS:function:{fid}), with 'calls' and 'failures' (stored outcomes), 'run:sum' and the
-- run-time histogram 'run:{bound}' (not cumulative, the bounds of TaskHistograms). Three HINCRBY/HINCRBYFLOAT
-- per stored outcome, four for a failure.
local RUN_BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
local RUN_LABELS = {'0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5',
  '10', '30', '60', '300'}
local function function_stats(stats, fid, status, started, finished)
  if not fid then
    return
  end
  local key = stats .. ':function:' .. fid
  redis.call('HINCRBY', key, 'calls', 1)
  if status == 'FAILED' then
    redis.call('HINCRBY', key, 'failures', 1)
  end
  if started and started ~= '' then
    local run = math.max(0, tonumber(finished) - tonumber(started))
    local label = '+Inf'
    for i = 1, #RUN_BOUNDS do
      if run <= RUN_BOUNDS[i] then
        label = RUN_LABELS[i]
        break
      end
    end
    redis.call('HINCRBYFLOAT', key, 'run:sum', string.format('%.6f', run))
    redis.call('HINCRBY', key, 'run:' .. label, 1)
  end
end
