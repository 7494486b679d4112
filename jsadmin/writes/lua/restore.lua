-- One chunk of undo: put back values that cancel / purge / delete removed.
-- KEYS[2..] holds every key once; ARGV refers to keys by their index in KEYS (>= 2).
-- ARGV[2] = a token of the calling undo (returned, so a caller can tell its own run from the
-- stored result of an earlier undo of the same chunk).
-- ARGV[3] = number of list pushes L, then L pairs (key index, value), each LPUSHed in this
-- order: the caller sends a list's values last-first, so they come back at the head in their
-- original order, ahead of anything queued since. O(L), whatever the list length.
-- Then hash restores until the end of ARGV: triples (key index, field, value), HSETNX (an
-- entry written since is never overwritten).
-- The write id is derived from the journal entry and chunk (undo:<entry>:<chunk>), so a
-- second undo of the same entry finds the marker and restores nothing.
-- Preconditions first: list keys are lists (or absent), hash keys hashes (or absent).
-- Returns finish({values pushed, hash fields restored, hash fields skipped, token}).
local l = tonumber(ARGV[3])
local refused = check_kinds(3, 3)
if refused then return refused end
local pushed, restored, skipped = 0, 0, 0
local i = 4
for _ = 1, l do
  redis.call('LPUSH', KEYS[tonumber(ARGV[i])], ARGV[i + 1])
  pushed = pushed + 1
  i = i + 2
end
while i <= #ARGV do
  if redis.call('HSETNX', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2]) == 1 then
    restored = restored + 1
  else
    skipped = skipped + 1
  end
  i = i + 3
end
return finish({pushed, restored, skipped, ARGV[2]})
