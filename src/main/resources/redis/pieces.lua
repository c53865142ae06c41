-- Values stored in pieces (LargeValues.java): a value longer than a piece has its first piece in its field,
-- the count of its pieces in FIELD_pieces and the others in FIELD_1, FIELD_2... of the same hash.
-- Removes the pieces of field's value after the first, and their count: for a script that writes the field
-- whole, or removes it.
local function drop_pieces(key, field)
  local count = redis.call('HGET', key, field .. '_pieces')
  if count then
    for i = 1, tonumber(count) - 1 do
      redis.call('HDEL', key, field .. '_' .. i)
    end
    redis.call('HDEL', key, field .. '_pieces')
  end
end
