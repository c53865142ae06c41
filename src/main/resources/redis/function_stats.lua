-- Counters of the stats hash and the dashboard's per-function figures, loaded before the scripts that end tasks.
-- The increments of one script call are gathered and applied by stats_flush, one HINCRBY per field changed,
-- rather than several per task.
-- Per function: one hash named after the stats hash (STATS:function:{fid}), with 'calls' and 'failures' (stored
-- outcomes), 'run:sum' and the run-time histogram 'run:{bound}' (not cumulative, the bounds of TaskHistograms).
local RUN_BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
local RUN_LABELS = {'0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5',
  '10', '30', '60', '300'}
local counts = {} -- key -> field -> increment
local function stats_count(key, field, by)
  local fields = counts[key]
  if not fields then
    fields = {}
    counts[key] = fields
  end
  fields[field] = (fields[field] or 0) + by
end
-- One stored outcome of function fid: the platform's count of its status, its tenant's (STATS:tenant:{tenant},
-- when it has one: false or ''), and the function's figures.
local function function_stats(stats, fid, tenant, status, started, finished)
  local outcome = status == 'COMPLETED' and 'completed' or 'failed'
  stats_count(stats, outcome, 1)
  if tenant and tenant ~= '' then
    stats_count(stats .. ':tenant:' .. tenant, outcome, 1)
  end
  if not fid then
    return
  end
  local key = stats .. ':function:' .. fid
  stats_count(key, 'calls', 1)
  if status == 'FAILED' then
    stats_count(key, 'failures', 1)
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
    stats_count(key, 'run:sum', run)
    stats_count(key, 'run:' .. label, 1)
  end
end
local function stats_flush()
  for key, fields in pairs(counts) do
    for field, by in pairs(fields) do
      if field == 'run:sum' then
        redis.call('HINCRBYFLOAT', key, field, string.format('%.6f', by))
      else
        redis.call('HINCRBY', key, field, by)
      end
    end
  end
end
