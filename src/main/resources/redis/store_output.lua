-- Stores what a running task printed so far, only while it is RUNNING: a live report that arrives after the
-- task ended (or was retried, or expired) never overwrites its final output.
-- KEYS[1] task hash
-- ARGV[1] stdout, ARGV[2] stderr, ARGV[3] output_truncated ("1" or "0")
-- Returns 1 when stored, 0 when not.
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' then
  return 0
end
redis.call('HSET', KEYS[1], 'stdout', ARGV[1], 'stderr', ARGV[2], 'output_truncated', ARGV[3])
return 1
