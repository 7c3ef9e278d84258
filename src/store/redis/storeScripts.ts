import { RedisScript } from './RedisScript.js';

/** Raised by a script (redis.error_reply) when a new device would exceed the device cap. */
export const DEVICE_LIMIT_REPLY = 'OPENCLAW_DEVICE_LIMIT';

// Shared Lua helpers. Every key a script touches is passed in KEYS; all share the {state} hash tag.
const IS_EXPIRED = `
local function isExpired(status, expiresAt, resolvedAt, now, retentionMs)
  if status == 'pending' then return (tonumber(expiresAt) or 0) <= now end
  return (tonumber(resolvedAt) or 0) + retentionMs <= now
end`;

// Device hash + id set + tokenHash index, kept consistent by every writer.
const SAVE_DEVICE = `
local function saveDevice(deviceKey, idsKey, indexKey, maxDevices, deviceId, tokenHash, fields)
  if redis.call('SISMEMBER', idsKey, deviceId) == 0 and redis.call('SCARD', idsKey) >= maxDevices then
    return false
  end
  local previousTokenHash = redis.call('HGET', deviceKey, 'tokenHash')
  if previousTokenHash and redis.call('HGET', indexKey, previousTokenHash) == deviceId then
    redis.call('HDEL', indexKey, previousTokenHash)
  end
  redis.call('DEL', deviceKey)
  redis.call('HSET', deviceKey, unpack(fields))
  redis.call('SADD', idsKey, deviceId)
  redis.call('HSET', indexKey, tokenHash, deviceId)
  return true
end`;

const DEVICE_LIMIT = `redis.error_reply('${DEVICE_LIMIT_REPLY} device limit reached')`;

/** KEYS: device, ids, index. ARGV: maxDevices, deviceId, tokenHash, field, value, … */
export const saveDeviceScript = new RedisScript(
  'saveDevice',
  `${SAVE_DEVICE}
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
if not saveDevice(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), ARGV[2], ARGV[3], fields) then
  return ${DEVICE_LIMIT}
end
return 1`,
);

/** KEYS: device, index. ARGV: deviceId, tokenHash. Returns the previous token hash, or nil. */
export const replaceDeviceTokenScript = new RedisScript(
  'replaceDeviceToken',
  `local previousTokenHash = redis.call('HGET', KEYS[1], 'tokenHash')
if not previousTokenHash then return nil end
if redis.call('HGET', KEYS[2], previousTokenHash) == ARGV[1] then redis.call('HDEL', KEYS[2], previousTokenHash) end
redis.call('HSET', KEYS[1], 'tokenHash', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return previousTokenHash`,
);

/** KEYS: device, ids, index. ARGV: deviceId. Returns the deleted device hash (flat), or an empty array. */
export const deleteDeviceScript = new RedisScript(
  'deleteDevice',
  `local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return flat end
local tokenHash = redis.call('HGET', KEYS[1], 'tokenHash')
if tokenHash and redis.call('HGET', KEYS[3], tokenHash) == ARGV[1] then redis.call('HDEL', KEYS[3], tokenHash) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return flat`,
);

/** KEYS: device. ARGV: lastSeenAt. Never creates a device. */
export const touchDeviceScript = new RedisScript(
  'touchDevice',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
return 1`,
);

/**
 * KEYS: request, pending (zset id → expiresAt), pending of this client IP (same shape).
 * ARGV: now, perClientIp, total, requestId, expiresAt, field, value, …
 * Expired and no-longer-pending entries are dropped before counting, so they never count against a limit.
 */
export const createPairingRequestScript = new RedisScript(
  'createPairingRequest',
  `local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if not redis.call('ZSCORE', KEYS[2], id) then redis.call('ZREM', KEYS[3], id) end
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 'total_limit' end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[2]) then return 'client_ip_limit' end
local expiresAt = tonumber(ARGV[5])
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], math.max(math.floor(expiresAt - now), 1))
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
local latest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[3], math.max(math.floor(tonumber(latest[2]) - now), 1))
return 'created'`,
);

/**
 * KEYS: request, pending, device, ids, index.
 * ARGV: now, retentionMs, maxDevices, requestId, status, resolvedAt, hasSealedToken, sealedToken,
 *       hasDevice, deviceId, tokenHash, device field, value, …
 * Returns {'not_found'}, {'conflict', request} or {'resolved', request}; approval saves the device in the same step.
 */
export const resolvePairingRequestScript = new RedisScript(
  'resolvePairingRequest',
  `${IS_EXPIRED}
${SAVE_DEVICE}
local now = tonumber(ARGV[1])
local retentionMs = tonumber(ARGV[2])
local current = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'resolvedAt')
if not current[1] then return {'not_found'} end
if isExpired(current[1], current[2], current[3], now, retentionMs) then return {'not_found'} end
if current[1] ~= 'pending' then return {'conflict', redis.call('HGETALL', KEYS[1])} end
if ARGV[9] == '1' then
  local fields = {}
  for i = 12, #ARGV do fields[#fields + 1] = ARGV[i] end
  if not saveDevice(KEYS[3], KEYS[4], KEYS[5], tonumber(ARGV[3]), ARGV[10], ARGV[11], fields) then
    return ${DEVICE_LIMIT}
  end
end
redis.call('HSET', KEYS[1], 'status', ARGV[5], 'resolvedAt', ARGV[6])
if ARGV[7] == '1' then
  redis.call('HSET', KEYS[1], 'sealedToken', ARGV[8])
else
  redis.call('HDEL', KEYS[1], 'sealedToken')
end
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.max(math.floor(tonumber(ARGV[6]) + retentionMs - now), 1))
return {'resolved', redis.call('HGETALL', KEYS[1])}`,
);

/**
 * KEYS: request. ARGV: now, retentionMs, claimSecretHash.
 * Returns {'not_found'}, {'forbidden'} or {'claimed', request, hasSealedToken, sealedToken}; the sealed
 * token is removed in the same step, so it is handed out at most once.
 */
export const claimPairingRequestScript = new RedisScript(
  'claimPairingRequest',
  `${IS_EXPIRED}
local function sameDigest(a, b)
  if #a ~= #b then return false end
  local difference = 0
  for i = 1, #a do difference = bit.bor(difference, bit.bxor(string.byte(a, i), string.byte(b, i))) end
  return difference == 0
end
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {'not_found'} end
local request = {}
for i = 1, #flat, 2 do request[flat[i]] = flat[i + 1] end
if isExpired(request.status, request.expiresAt, request.resolvedAt, tonumber(ARGV[1]), tonumber(ARGV[2])) then
  return {'not_found'}
end
if not sameDigest(request.claimSecretHash or '', ARGV[3]) then return {'forbidden'} end
if request.sealedToken then
  redis.call('HDEL', KEYS[1], 'sealedToken')
  return {'claimed', flat, '1', request.sealedToken}
end
return {'claimed', flat, '0', ''}`,
);
