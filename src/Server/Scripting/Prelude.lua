-- The Redis Lua API around NativeKv's C# functions (api), as script_lua.c and eval.c build it.
-- C# functions never raise (a longjmp may not cross .NET frames): they return ok, value and the
-- raising happens here, in Lua. Chunk "=redis_api": the error handler skips these frames.
local api, G = ...
local dbg = debug
local error, type, select, tostring, tonumber, rawset, setmetatable = error, type, select, tostring, tonumber, rawset, setmetatable
local sfind, ssub = string.find, string.sub

-- luaPushErrorBuff: "-CODE msg" or "msg" (code ERR), trailing/leading \r\n trimmed.
local function trim(s)
  local a, b = 1, #s
  while a <= b and (ssub(s, a, a) == '\r' or ssub(s, a, a) == '\n') do a = a + 1 end
  while b >= a and (ssub(s, b, b) == '\r' or ssub(s, b, b) == '\n') do b = b - 1 end
  return ssub(s, a, b)
end
local function errtable(s)
  local code, msg = 'ERR', s
  if ssub(s, 1, 1) == '-' then
    local sp = sfind(s, ' ', 1, true)
    if sp then code, msg = ssub(s, 2, sp - 1), ssub(s, sp + 1) else msg = ssub(s, 2) end
  end
  return { err = code .. ' ' .. trim(msg) }
end

local redis = {}
-- C functions: a tail call keeps the script's frame, so their errors name the script's line.
redis.call, redis.pcall = api.call, api.pcall
redis.sha1hex, redis.log, redis.setresp, redis.set_repl = api.sha1hex, api.log, api.setresp, api.set_repl
redis.error_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then return errtable('wrong number or type of arguments') end
  local e = ...
  if ssub(e, 1, 1) ~= '-' then e = '-' .. e end
  return errtable(e)
end
redis.status_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then return errtable('wrong number or type of arguments') end
  return { ok = (...) }
end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.replicate_commands = function() return true end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.acl_check_cmd = api.acl_check_cmd
redis.breakpoint = function() return false end
redis.debug = function() end
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = api.version, api.version_num

-- pcall is luaRedisPcall, in C# (an error table becomes its message, as before Redis 7); xpcall's handler
-- first swaps an error raised from C# for its table (api.take).
local rawxpcall, take = xpcall, api.take

-- The globals and library tables are read-only, as Redis's patched Lua makes them: a proxy per
-- table (reads fall through to the real one, writes raise), since Debian's Lua has no readonly flag.
-- readonly maps each proxy to its table, so next and pairs walk the table (pairs(_G) lists the globals, as in Redis).
local readonly = setmetatable({}, { __mode = 'k' })
local function ro_error() error('Attempt to modify a readonly table', 2) end
local function protect(t)
  local p = setmetatable({}, { __index = t, __newindex = ro_error, __metatable = false })
  readonly[p] = t
  return p
end
local real = {}
for k, v in G.next, G do real[k] = v end
real.debug = nil
-- Gone in Redis's sandbox too (luaRemoveUnsupportedFunctions and the globals it never loads).
real.print, real.dofile, real.loadfile, real.newproxy, real.getfenv, real.setfenv = nil, nil, nil, nil, nil, nil
-- Not tail calls: a bad argument's error names 'next' and 'pairs', as Lua's own do.
local next, pairs = G.next, G.pairs
real.next = function(t, k)
  local nk, nv = next(readonly[t] or t, k)
  return nk, nv
end
local proxynext = real.next
real.pairs = function(t)
  if type(t) ~= 'table' then
    local f, s, c = pairs(t)
    return f, s, c
  end
  return proxynext, t, nil
end
real.redis = protect(redis)
for _, name in G.ipairs({ 'string', 'math', 'table', 'coroutine', 'cjson', 'struct', 'cmsgpack', 'bit' }) do
  if real[name] then real[name] = protect(real[name]) end
end
real.pcall = api.pcall_lua
real.xpcall = function(f, h)
  return rawxpcall(f, function(e) return h((take(e))) end)
end
-- rawget sees through a proxy (rawget(_G, 'name') tests a global without the nonexistent-global error, as in Redis).
real.rawget = api.rawget_through(readonly)
real.rawset = function(t, k, v)
  if readonly[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
-- __redis__err__handler: where the error was raised (the caller of a C function or of this API).
real.__redis__err__handler = function(err)
  local source, line
  err, source, line = take(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '=redis_api') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = { err = 'ERR ' .. tostring(err) } end
  if line then
    -- raised from C#: the line of the call (the hook raised at the next instruction)
    err['source'] = source
    err['line'] = line
  elseif i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
setmetatable(real, {
  __index = function(_, k) error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end,
  __newindex = ro_error,
  __metatable = false,
})
local env = protect(real)
real._G = env

-- FUNCTION libraries (function_lua.c): one environment for every library's code, switched between the
-- load API (only `redis` with register_function, log and the version) while FUNCTION LOAD runs the code,
-- and the globals when a function is called (no KEYS/ARGV there: a function gets them as arguments).
local loading -- the functions registered so far by the load running now, else nil
local function missing(k) error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 3) end
local function fail(msg) error({ err = 'ERR ' .. msg }, 0) end
local FLAGS = { ['no-writes'] = 2, ['allow-oom'] = 4, ['allow-stale'] = 8, ['no-cluster'] = 16, ['allow-cross-slot-keys'] = 32 }
local slower, sfind2 = string.lower, string.find
local function isstr(v) return type(v) == 'string' or type(v) == 'number' end
local function register_function(...)
  if not loading then fail('redis.register_function can only be called on FUNCTION LOAD command') end
  local argc = select('#', ...)
  if argc < 1 or argc > 2 then fail('wrong number of arguments to redis.register_function') end
  local name, desc, cb, flags = nil, nil, nil, 0
  if argc == 1 then
    local t = ...
    if type(t) ~= 'table' then fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).') end
    for k, v in G.next, t do
      if not isstr(k) then fail('named argument key given to redis.register_function is not a string') end
      local key = slower(tostring(k))
      if key == 'function_name' then
        if not isstr(v) then fail('function_name argument given to redis.register_function must be a string') end
        name = tostring(v)
      elseif key == 'description' then
        if not isstr(v) then fail('description argument given to redis.register_function must be a string') end
        desc = tostring(v)
      elseif key == 'callback' then
        if type(v) ~= 'function' then fail('callback argument given to redis.register_function must be a function') end
        cb = v
      elseif key == 'flags' then
        if type(v) ~= 'table' then fail('flags argument to redis.register_function must be a table representing function flags') end
        local j = 1
        while v[j] ~= nil do
          local f = isstr(v[j]) and FLAGS[slower(tostring(v[j]))]
          if not f then fail('unknown flag given') end
          if flags % (f * 2) < f then flags = flags + f end
          j = j + 1
        end
      else
        fail('unknown argument given to redis.register_function')
      end
    end
    if not name then fail('redis.register_function must get a function name argument') end
    if not cb then fail('redis.register_function must get a callback argument') end
  else
    local n, f = ...
    if not isstr(n) then fail('first argument to redis.register_function must be a string') end
    if type(f) ~= 'function' then fail('second argument to redis.register_function must be a function') end
    name, cb = tostring(n), f
  end
  -- functionLibCreateFunction (7.2 says "Library names" for a function's name too)
  if #name == 0 or sfind2(name, '[^%w_]') then fail('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long') end
  for _, e in G.ipairs(loading) do
    if e[1] == name then fail('Function already exists in the library') end
  end
  loading[#loading + 1] = { name, cb, flags, desc }
end
local loadredis = { register_function = register_function, log = redis.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM }
local loadapi = { redis = setmetatable({}, {
  __index = function(_, k) local v = loadredis[k]; if v == nil then missing(k) end; return v end,
  __newindex = ro_error, __metatable = false }) }
local fenv = setmetatable({}, {
  __index = function(_, k)
    local v
    if loading then v = loadapi[k] elseif k ~= 'KEYS' and k ~= 'ARGV' then v = G.rawget(real, k) end
    if v == nil then missing(k) end
    return v
  end,
  __newindex = ro_error,
  __metatable = false,
})
-- What C# keeps (in the registry): the scripts' environment, the handler, and how KEYS/ARGV are set.
return {
  env = env,
  handler = real.__redis__err__handler,
  setfenv = G.setfenv,
  args = function(keys, argv) rawset(real, 'KEYS', keys); rawset(real, 'ARGV', argv) end,
  fenv = fenv,
  load_begin = function() loading = {} end,
  load_end = function() local l = loading; loading = nil; return l end,
  load_handler = function(e) return take(e) end,
}
