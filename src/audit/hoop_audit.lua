-- hoop_audit.lua: applies one batch of audit events to Redis (the audit
-- trail, format v1: docs/audit.md).  Loaded by the gateway with SCRIPT LOAD
-- and called once per batch (tools/embed-lua embeds this file in
-- src/audit/hoop_audit_lua.h; edit this file, never the header):
--
--   EVALSHA <sha1> 0 <prefix> <stream> <maxlen> <retention_s> <writer>
--           <event-json> [<event-json> ...]
--
--   prefix       key prefix P ("hoop:")
--   stream       full key of the main stream ("hoop:audit")
--   maxlen       "0" or N: the streams are trimmed to about N entries
--   retention_s  "0" or seconds: entries older than that are trimmed and
--                index keys expire after it
--   writer       the writer's id (node:pid:start-ms); the events of one
--                batch are all that writer's, numbered by "seq"
--
-- Returns { applied, skipped }: skipped events had a seq at or below the
-- last one applied for that writer (a batch sent again after a lost reply,
-- or replayed from a spool), so each (writer, seq) lands once.
--
-- Per applied event: XADD to the stream with id "<ts>-*" (or "*" when Redis
-- refuses it because the stream has a later entry, or when ts is more than
-- 5 minutes ahead of the Redis clock); request and aggregate events count
-- in the who/what indexes (HINCRBY); denies, failed authentications,
-- protocol errors and dropped-event notices go to P audit:denied too; an
-- allowed request moves P grant:last_used of its rule forward.  Index
-- increments, last use and trimming are gathered and done once per batch.
--
-- Session recording: a "record" event goes to its session's stream
-- P audit:session:<sid> instead of the main stream (same ids and fields),
-- which stays the compact decision trail; a "closed" event goes to the
-- main stream and, when the session has a stream, to that too (the end of
-- its timeline).  Each recorded session is in the sorted set
-- P audit:sessions (member sid, score: ms of its first kept entry) and
-- has a hash P audit:sessions:<sid> for listing (identity, client, first,
-- last, counts, record mode), written once per batch.  Session keys expire
-- retention_s after their last write; sessions that began before the
-- retention period are trimmed like the main stream (their older entries
-- dropped, their keys deleted once nothing is left), and maxlen caps both
-- the entries of a session and the number of sessions.
--
-- An argument that is not a JSON object with a seq, a ts and an event
-- is not dropped: it lands in both streams as event "invalid" with the
-- text in "raw" and the reason in "error" (counted as applied).
--
-- Nothing is written when an argument of the call itself is bad (error
-- reply).  If Redis fails a write half way (out of memory, a key of the
-- wrong type), the events applied so far are recorded for their writer
-- and an error reply says how many: sending the batch again applies the
-- rest once.

local P, STREAM, MAXLEN, RETENTION, WRITER =
    ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

if #ARGV < 5 then
    return redis.error_reply('hoop_audit: usage: EVALSHA sha 0 prefix '
        .. 'stream maxlen retention_s writer event...')
end

if STREAM == '' or WRITER == ''
    or not string.match(MAXLEN, '^%d+$') or #MAXLEN > 15
    or not string.match(RETENTION, '^%d+$') or #RETENTION > 12
then
    return redis.error_reply('hoop_audit: bad arguments: stream and writer '
        .. 'must not be empty, maxlen and retention_s are decimal numbers')
end

MAXLEN = tonumber(MAXLEN)
RETENTION = tonumber(RETENTION)

local DENIED = P .. 'audit:denied'
local WKEY = P .. 'audit:writer:' .. WRITER
local WRITER_TTL = 30 * 86400
local AHEAD_MS = 300000
local LAST_USED = P .. 'grant:last_used'
local SESSION = P .. 'audit:session:'           -- + sid: stream
local SESSIONS = P .. 'audit:sessions'          -- sorted set of sids
local SESSION_INFO = P .. 'audit:sessions:'     -- + sid: hash
local SID_MAX = 512                             -- bytes of a sid
local AGE_MAX = 64                              -- old sessions per batch

-- the order of the stream fields; the other keys follow, sorted
local ORDER = {
    'v', 'seq', 'ts', 'node', 'sid', 'event', 'principal', 'groups', 'auth',
    'client', 'client_id', 'software', 'api', 'api_key', 'api_version',
    'correlation_id', 'resource_type', 'resource', 'operation', 'partitions',
    'records', 'bytes', 'offsets', 'decision', 'reason', 'rule',
    'policy_version', 'count', 'until', 'mask', 'approval', 'error',
    'bytes_in', 'bytes_out'
}

local KNOWN = { day = true }
for _, k in ipairs(ORDER) do
    KNOWN[k] = true
end

local TO_DENIED = {
    authentication_failed = true, protocol_error = true, audit_dropped = true
}

local now = redis.call('TIME')
local NOW_MS = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)


-- Field values.  Fast path: from cjson's decoded table (strings as they
-- are, integers in decimal, arrays and objects encoded again, compact).
-- cjson holds numbers as doubles, and an empty array and an empty object
-- decode alike, so an event with a number that is not an integer below
-- 2^53, or an empty table outside the known arrays, takes the slow path:
-- the raw text of each top-level member, found by scanning the text
-- (valid JSON: cjson.decode accepted it first), kept exactly.

local BIG = 9007199254740992            -- 2^53

local ARRAYS = {
    groups = true, partitions = true, offsets = true, mask = true,
    checks = true
}

-- index of the closing quote of the string opening at i
local function string_end(s, i)
    local j = i + 1
    while true do
        j = string.find(s, '["\\]', j)
        if string.byte(s, j) == 92 then
            j = j + 2
        else
            return j
        end
    end
end

-- index of the last character of the value starting at i
local function value_end(s, i)
    local c = string.byte(s, i)

    if c == 34 then
        return string_end(s, i)
    end

    if c == 91 or c == 123 then
        local depth, j = 0, i
        while true do
            j = string.find(s, '["%[%]{}]', j)
            c = string.byte(s, j)
            if c == 34 then
                j = string_end(s, j)
            elseif c == 91 or c == 123 then
                depth = depth + 1
            else
                depth = depth - 1
                if depth == 0 then
                    return j
                end
            end
            j = j + 1
        end
    end

    return (string.find(s, '[%s,}%]]', i) or #s + 1) - 1
end

-- the decoded text of a JSON string token
local function decode_string(raw)
    if string.find(raw, '\\', 2, true) then
        return cjson.decode(raw)
    end
    return string.sub(raw, 2, -2)
end

-- slow path: key -> field text (strings decoded, others as their raw
-- JSON text, null absent; the last of duplicate keys, as cjson does)
local function members(s, i)
    local f = {}
    i = i + 1

    while true do
        i = string.find(s, '[^ \t\r\n,]', i)
        if string.byte(s, i) == 125 then
            return f
        end

        local kend = string_end(s, i)
        local key = decode_string(string.sub(s, i, kend))
        i = string.find(s, '[^ \t\r\n:]', kend + 1)
        local vend = value_end(s, i)
        local raw = string.sub(s, i, vend)

        if raw == 'null' then
            f[key] = nil
        elseif string.byte(raw, 1) == 34 then
            f[key] = decode_string(raw)
        else
            f[key] = raw
        end
        i = vend + 1
    end
end

local function json_string(s)
    if s == nil then
        return 'null'
    end
    if not string.find(s, '[%c"\\]') then
        return '"' .. s .. '"'
    end
    return '"' .. string.gsub(s, '[%c"\\]', function (c)
        if c == '"' or c == '\\' then
            return '\\' .. c
        end
        return string.format('\\u%04x', string.byte(c))
    end) .. '"'
end

-- an integer below 2^53 in decimal, else nil
local function number_text(v)
    if v == math.floor(v) and v > -BIG and v < BIG then
        return string.format('%.0f', v)
    end
    return nil
end

-- compact JSON of a decoded value; nil when it may differ from the text
local function json_text(v, array)
    local t = type(v)

    if t == 'string' then
        return json_string(v)
    elseif t == 'number' then
        return number_text(v)
    elseif t == 'boolean' then
        return tostring(v)
    elseif v == cjson.null then
        return 'null'
    elseif t ~= 'table' then
        return nil
    end

    local out, n, count = {}, #v, 0
    for _ in pairs(v) do
        count = count + 1
    end

    if count == 0 then
        return array and '[]' or nil
    end

    if n == count then
        for i = 1, n do
            out[i] = json_text(v[i], false)
            if out[i] == nil then
                return nil
            end
        end
        return '[' .. table.concat(out, ',') .. ']'
    end

    local keys = {}
    for k in pairs(v) do
        if type(k) ~= 'string' then
            return nil
        end
        keys[#keys + 1] = k
    end
    table.sort(keys)

    for i, k in ipairs(keys) do
        local x = json_text(v[k], false)
        if x == nil then
            return nil
        end
        out[i] = json_string(k) .. ':' .. x
    end
    return '{' .. table.concat(out, ',') .. '}'
end

-- fast path: key -> field text from the decoded object, or nil
local function fast_fields(obj)
    local f = {}

    for k, v in pairs(obj) do
        local t = type(v)
        local x

        if t == 'string' then
            x = v
        elseif t == 'number' then
            x = number_text(v)
        elseif t == 'boolean' then
            x = tostring(v)
        elseif t == 'table' then
            x = json_text(v, ARRAYS[k])
        elseif v == cjson.null then
            x = false
        end

        if x == nil then
            return nil
        end
        if x then
            f[k] = x
        end
    end

    return f
end

-- UTC date of a time in ms, YYYY-MM-DD (days to civil date)
local function day_of(ms)
    local z = math.floor(ms / 86400000) + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460)
        + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + math.floor(yoe / 4)
        - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local d = doy - math.floor((153 * mp + 2) / 5) + 1
    local m = mp < 10 and mp + 3 or mp - 9
    local y = yoe + era * 400
    if m <= 2 then
        y = y + 1
    end
    return string.format('%04d-%02d-%02d', y, m, d)
end

local function positive(v)
    if type(v) == 'number' and v >= 1 and v < BIG and v == math.floor(v) then
        return v
    end
    return nil
end


-- One argument: a table with the fields to write, or with .invalid set.
local function parse(text)
    local ev = {}
    local first = string.find(text, '[^ \t\r\n]')

    if not first or string.byte(text, first) ~= 123 then
        ev.invalid = 'not a JSON object'
        return ev
    end

    local ok, obj = pcall(cjson.decode, text)
    if not ok or type(obj) ~= 'table' then
        ev.invalid = 'not valid JSON'
        return ev
    end

    ev.obj = obj
    ev.seq = positive(obj.seq)
    ev.ts = positive(obj.ts)

    if not ev.seq then
        ev.invalid = 'no "seq" (a positive integer)'
    elseif not ev.ts then
        ev.invalid = 'no "ts" (milliseconds since the Epoch)'
    elseif type(obj.event) ~= 'string' then
        ev.invalid = 'no "event" (a string)'
    end

    if ev.invalid then
        return ev
    end

    ev.f = fast_fields(obj) or members(text, first)
    ev.event = obj.event
    ev.day = obj.day
    if type(ev.day) ~= 'string'
        or not string.match(ev.day, '^%d%d%d%d%-%d%d%-%d%d$')
    then
        ev.day = day_of(ev.ts)
    end

    return ev
end

-- XADD with the gateway's time as id, else Redis' own
local function xadd(key, ts, fields)
    if ts and ts <= NOW_MS + AHEAD_MS then
        local r = redis.pcall('XADD', key, string.format('%d-*', ts),
                              unpack(fields))
        if type(r) ~= 'table' or not r.err then
            return r
        end
        if not string.find(r.err, 'equal or smaller', 1, true) then
            error(r.err, 0)
        end
    end
    return redis.call('XADD', key, '*', unpack(fields))
end

local who, what, used = {}, {}, {}

-- recorded sessions of this batch: sid -> what it adds to the listing
local sessions = {}

-- the hash fields copied from the session's events (the latest wins)
local SESSION_COPY = {
    'node', 'principal', 'auth', 'client', 'client_id', 'software'
}

local function session_of(sid)
    local s = sessions[sid]
    if not s then
        s = { requests = 0, responses = 0, bytes = 0, entries = 0,
              copy = {} }
        sessions[sid] = s
    end
    return s
end

local function session_event(s, ev)
    s.first = math.min(s.first or ev.ts, ev.ts)
    s.last = math.max(s.last or ev.ts, ev.ts)
    s.entries = s.entries + 1
    for _, k in ipairs(SESSION_COPY) do
        if ev.f[k] then
            s.copy[k] = ev.f[k]
        end
    end
end

-- a record event, now in its session's stream
local function recorded(sid, ev)
    local s, obj = session_of(sid), ev.obj

    session_event(s, ev)

    if obj.dir == 'request' then
        s.requests = s.requests + 1
    elseif obj.dir == 'response' then
        s.responses = s.responses + 1
    end

    if type(obj.size) == 'number' and obj.size >= 0 and obj.size < BIG then
        s.bytes = s.bytes + math.floor(obj.size)
    end

    if ev.f.payload then
        s.mode = 'payloads'
    elseif not s.mode then
        s.mode = 'summary'
    end
end

-- a recorded session's "closed" event, in its stream too
local function session_closed(sid, ev)
    local s = session_of(sid)

    session_event(s, ev)
    s.closed = ev.ts
    s.totals = {}
    for _, k in ipairs({ 'bytes_in', 'bytes_out', 'duration_ms' }) do
        if ev.f[k] then
            s.totals[k] = ev.f[k]
        end
    end
end

local function count_in(index, key, field, n)
    local h = index[key]
    if not h then
        h = {}
        index[key] = h
    end
    h[field] = (h[field] or 0) + n
end

-- writes one event; ev.added is set once the main stream has it
local function apply(ev, text)
    local f = {}

    if ev.invalid then
        f = { 'v', '1' }
        if ev.seq then
            f[#f + 1] = 'seq'
            f[#f + 1] = string.format('%d', ev.seq)
        end
        f[#f + 1] = 'ts'
        f[#f + 1] = string.format('%d', NOW_MS)
        for _, v in ipairs({ 'event', 'invalid', 'error', ev.invalid,
                             'writer', WRITER, 'raw', text }) do
            f[#f + 1] = v
        end
        xadd(STREAM, nil, f)
        ev.added = true
        xadd(DENIED, nil, f)
        return
    end

    local fields, obj = ev.f, ev.obj
    for _, k in ipairs(ORDER) do
        local v = fields[k]
        if v ~= nil then
            f[#f + 1] = k
            f[#f + 1] = v
        end
    end

    local extra = {}
    for k in pairs(fields) do
        if not KNOWN[k] then
            extra[#extra + 1] = k
        end
    end
    table.sort(extra)
    for _, k in ipairs(extra) do
        f[#f + 1] = k
        f[#f + 1] = fields[k]
    end

    local sid = obj.sid
    if type(sid) ~= 'string' or sid == '' or #sid > SID_MAX then
        sid = nil
    end

    -- session recording: the session's stream, not the main one
    if ev.event == 'record' and sid then
        xadd(SESSION .. sid, ev.ts, f)
        ev.added = true
        recorded(sid, ev)
        return
    end

    xadd(STREAM, ev.ts, f)
    ev.added = true

    if ev.event == 'closed' and sid
        and (sessions[sid] or redis.call('EXISTS', SESSION .. sid) == 1)
    then
        xadd(SESSION .. sid, ev.ts, f)
        session_closed(sid, ev)
    end

    local decision = fields.decision

    if decision == 'deny' or TO_DENIED[ev.event] then
        xadd(DENIED, ev.ts, f)
    end

    local rtype = fields.resource_type

    if (ev.event == 'request' or ev.event == 'aggregate')
        and type(obj.resource_type) == 'string'
    then
        local n = positive(obj.count) or 1
        local principal = fields.principal
        local resource = fields.resource
        local op = fields.operation

        count_in(who, P .. 'audit:who:' .. rtype .. ':' .. ev.day .. ':'
                 .. (resource or ''),
                 '[' .. json_string(principal) .. ',' .. json_string(op)
                 .. ',' .. json_string(decision) .. ']', n)

        count_in(what, P .. 'audit:what:' .. ev.day .. ':'
                 .. (principal or ''),
                 '[' .. json_string(rtype) .. ',' .. json_string(resource)
                 .. ',' .. json_string(op) .. ',' .. json_string(decision)
                 .. ']', n)
    end

    local rule = obj.rule

    if decision == 'allow' and type(rule) == 'string' then
        -- an aggregate's last request is at "until"
        local t = math.max(ev.ts, positive(obj['until']) or 0)
        if (used[rule] or 0) < t then
            used[rule] = t
        end
    end
end


-- Recorded sessions, once per batch: the listing hash, expiry, trimming
-- and the index.  Sessions that began before the retention period lose
-- their older entries as the main stream does (exactly, so that the
-- first kept entry is inside the period) and move in the index to that
-- entry; those with nothing left are deleted.

local CUTOFF = nil
if RETENTION > 0 and NOW_MS > RETENTION * 1000 then
    CUTOFF = NOW_MS - RETENTION * 1000
end

-- trims a session to the retention period: the ms of its first kept
-- entry, or nil when nothing is left (its keys are then deleted)
local function session_age(sid)
    local key = SESSION .. sid

    redis.call('XTRIM', key, 'MINID', string.format('%d', CUTOFF))

    local e = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)
    if #e == 0 then
        redis.call('DEL', key, SESSION_INFO .. sid)
        return nil
    end

    return tonumber(string.match(e[1][1], '^%d+'))
end

local function session_write(sid, s, index, gone)
    local key, ikey = SESSION .. sid, SESSION_INFO .. sid
    local cur = redis.call('HMGET', ikey, 'first', 'last', 'requests',
                           'responses', 'bytes', 'entries', 'record')

    local first = tonumber(cur[1]) or s.first
    if s.first and s.first < first then
        first = s.first
    end

    local last = math.max(tonumber(cur[2]) or s.last, s.last)
    local mode = cur[7] or s.mode or 'summary'
    if s.mode == 'payloads' then
        mode = 'payloads'
    end

    if CUTOFF and first < CUTOFF then
        first = session_age(sid)
        if not first then
            gone[#gone + 1] = sid
            return
        end
    end

    local h = {
        'first', string.format('%d', first),
        'last', string.format('%d', last),
        'requests', string.format('%d', (tonumber(cur[3]) or 0) + s.requests),
        'responses',
        string.format('%d', (tonumber(cur[4]) or 0) + s.responses),
        'bytes', string.format('%d', (tonumber(cur[5]) or 0) + s.bytes),
        'entries', string.format('%d', (tonumber(cur[6]) or 0) + s.entries),
        'record', mode
    }
    for _, k in ipairs(SESSION_COPY) do
        if s.copy[k] then
            h[#h + 1] = k
            h[#h + 1] = s.copy[k]
        end
    end
    if s.closed then
        h[#h + 1] = 'closed'
        h[#h + 1] = string.format('%d', s.closed)
        for k, v in pairs(s.totals) do
            h[#h + 1] = k
            h[#h + 1] = v
        end
    end

    redis.call('HSET', ikey, unpack(h))

    if RETENTION > 0 then
        redis.call('EXPIRE', key, RETENTION)
        redis.call('EXPIRE', ikey, RETENTION)
    end
    if MAXLEN > 0 then
        redis.call('XTRIM', key, 'MAXLEN', '~', MAXLEN)
    end

    index[#index + 1] = string.format('%d', first)
    index[#index + 1] = sid
end

local function sessions_write()
    local index, gone = {}, {}

    for sid, s in pairs(sessions) do
        session_write(sid, s, index, gone)
    end

    -- sessions of earlier batches that began before the retention period
    if CUTOFF then
        local old = redis.call('ZRANGEBYSCORE', SESSIONS, '-inf',
                               string.format('(%d', CUTOFF),
                               'LIMIT', 0, AGE_MAX)
        for _, sid in ipairs(old) do
            if not sessions[sid] then
                local first = session_age(sid)
                if first then
                    redis.call('HSET', SESSION_INFO .. sid, 'first',
                               string.format('%d', first))
                    index[#index + 1] = string.format('%d', first)
                    index[#index + 1] = sid
                else
                    gone[#gone + 1] = sid
                end
            end
        end
    end

    for i = 1, #index, 1000 do
        redis.call('ZADD', SESSIONS,
                   unpack(index, i, math.min(i + 999, #index)))
    end

    -- maxlen: the oldest sessions beyond it (not those written now)
    if MAXLEN > 0 then
        local over = redis.call('ZCARD', SESSIONS) - MAXLEN
        if over > 0 then
            local old = redis.call('ZRANGE', SESSIONS, 0,
                                   math.min(over, AGE_MAX) - 1)
            for _, sid in ipairs(old) do
                if not sessions[sid] then
                    redis.call('DEL', SESSION .. sid, SESSION_INFO .. sid)
                    gone[#gone + 1] = sid
                end
            end
        end
    end

    for i = 1, #gone, 1000 do
        redis.call('ZREM', SESSIONS, unpack(gone, i, math.min(i + 999, #gone)))
    end
end


-- the writer's last applied seq

local last = redis.call('GET', WKEY)
if last and not string.match(last, '^%d+$') then
    return redis.error_reply('hoop_audit: ' .. WKEY .. ' is not a number')
end
last = tonumber(last or '0')

local applied, skipped, moved, failure = 0, 0, false, nil

for i = 6, #ARGV do
    local ev = parse(ARGV[i])

    if ev.seq and ev.seq <= last then
        skipped = skipped + 1

    else
        local ok, err = pcall(apply, ev, ARGV[i])

        if ev.added then
            applied = applied + 1
            if ev.seq then
                last = ev.seq
                moved = true
            end
        end

        if not ok then
            if type(err) == 'table' then
                err = err.err
            end
            failure = tostring(err)
            break
        end
    end
end

-- the writer's progress first: it is what keeps a replay from doubling
local ok, err = pcall(function ()
    if moved then
        redis.call('SET', WKEY, string.format('%d', last), 'EX', WRITER_TTL)
    end

    for _, index in ipairs({ who, what }) do
        for key, h in pairs(index) do
            for field, n in pairs(h) do
                redis.call('HINCRBY', key, field, n)
            end
            if RETENTION > 0 then
                redis.call('EXPIRE', key, RETENTION)
            end
        end
    end

    for rule, t in pairs(used) do
        local cur = tonumber(redis.call('HGET', LAST_USED, rule) or '0') or 0
        if cur < t then
            redis.call('HSET', LAST_USED, rule, string.format('%d', t))
        end
    end

    if applied > 0 then
        sessions_write()

        for _, key in ipairs({ STREAM, DENIED }) do
            if MAXLEN > 0 then
                redis.call('XTRIM', key, 'MAXLEN', '~', MAXLEN)
            end
            if RETENTION > 0 and NOW_MS > RETENTION * 1000 then
                redis.call('XTRIM', key, 'MINID', '~',
                           string.format('%d', NOW_MS - RETENTION * 1000))
            end
        end
    end
end)

if not ok and not failure then
    if type(err) == 'table' then
        err = err.err
    end
    failure = tostring(err)
end

if failure then
    return redis.error_reply('hoop_audit: ' .. failure .. ' (' .. applied
        .. ' of ' .. (#ARGV - 5) .. ' events applied, ' .. skipped
        .. ' skipped)')
end

return { applied, skipped }
