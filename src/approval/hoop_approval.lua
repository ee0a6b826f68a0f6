-- hoop_approval.lua: the approvals of high-risk requests in Redis
-- (docs/approvals.md: lifecycle, keys, messages).  The gateway and hoopctl
-- load it with SCRIPT LOAD and call it with EVALSHA; tools/embed-lua
-- embeds this file in src/approval/hoop_approval_lua.h (edit this file,
-- never the header).  One script, one operation per call:
--
--   EVALSHA <sha1> 0 request <P> <id> <principal> <groups-json>
--           <resource_type> <resource> <operation> <rule> <approvers-json>
--           <allow_self 0|1> <grant_ms> <expire_ms> <retention_s>
--           <summary-json>
--   EVALSHA <sha1> 0 decide <P> <id> approve|deny <approver>
--           <approver-groups-json> <reason> <retention_s>
--   EVALSHA <sha1> 0 revoke <P> <id> <revoker> <revoker-groups-json>
--           <reason> <retention_s>
--   EVALSHA <sha1> 0 status <P> <id>
--   EVALSHA <sha1> 0 expire <P> <max> <retention_s>
--
-- request, decide, revoke and expire take one more, optional, argument:
-- <audit>, the full key of the main audit stream (P audit); each step
-- (requested, approved, denied, expired, revoked) is then also XADDed
-- there as event "approval" (docs/audit.md).  Absent or empty: not.
--
-- request, decide and status reply { state, id, flag, ms, detail }:
--
--   request  "granted" id-of-the-approval 0 ms-left-on-the-grant ""
--            "pending" id created(1)|joined(0) ms-until-it-expires ""
--            "denied"  id 0 ms-the-denial-still-answers reason
--   decide   "approved" id repeated(0|1) grant-ms ""
--            "denied"   id repeated(0|1) 0 reason
--   revoke   "revoked"  id repeated(0|1) ms-the-grant-had-left ""
--   status   "pending" id 0 ms-until-it-expires ""
--            "approved" id 0 ms-left-on-the-grant (0: over) approver
--            "denied" id 0 0 reason;  "expired" id 0 0 ""
--            "revoked" id 0 0 revoker
--
-- expire replies with the ids it expired.  Every call first expires up to
-- 16 overdue pending approvals (status only reports them).  Refusals are
-- error replies whose first word says why: NOAPPROVAL, DECIDED,
-- NOTAPPROVER, SELFAPPROVAL, IDCOLLISION, NOTACTIVE (revoke: no active
-- grant), BADARG.
--
-- Keys under the prefix P (docs/redis-layout.md):
--   P approval:<id>                 hash: the approval
--   P approvals:subject:<subject>   string: the open (or just denied)
--                                   approval of a subject
--   P approvals:pending             zset: pending ids by expiry (ms)
--   P approvals:all                 zset: ids by creation (ms), retention
--   P approvals:events              stream: requested/approved/denied/
--                                   expired/revoked, trimmed by retention
--   P approvals:notify              channel: the same, as JSON
--   P jit:<subject>                 string: the id whose approval opened
--                                   this just-in-time grant, PX grant_ms
--   <audit> (the argument)          stream: the main audit stream, each
--                                   step as event "approval"
-- where <subject> = enc(principal):type:enc(resource):operation, enc()
-- writing '%', ':', blanks and control characters as %XX.

local OP, P = ARGV[1], ARGV[2]

if OP == nil or P == nil then
    return redis.error_reply('BADARG usage: EVALSHA sha 0 '
        .. 'request|decide|revoke|status|expire prefix ...')
end

local DENIED_MS = 60000         -- a denial answers the same subject for 1 min
local SWEEP = 16                -- overdue approvals expired per call
local MAX_NAME = 1024
local MAX_TEXT = 4096

local t = redis.call('TIME')
local NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local PENDING = P .. 'approvals:pending'
local ALL = P .. 'approvals:all'
local EVENTS = P .. 'approvals:events'
local NOTIFY = P .. 'approvals:notify'
local AUDIT = ''                -- the audit stream key, '' for none


local function bad(msg)
    return redis.error_reply('BADARG ' .. msg)
end

local function num(x)
    return string.format('%.0f', x)
end

-- valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF)
local function utf8_ok(s)
    if not string.find(s, '[\128-\255]') then
        return true
    end
    local i, n = 1, #s
    while i <= n do
        local c = string.byte(s, i)
        if c < 0x80 then
            i = i + 1
        elseif c >= 0xc2 and c <= 0xdf then
            local c2 = string.byte(s, i + 1)
            if not c2 or c2 < 0x80 or c2 > 0xbf then return false end
            i = i + 2
        elseif c >= 0xe0 and c <= 0xef then
            local c2, c3 = string.byte(s, i + 1, i + 2)
            if not c3 or c2 < 0x80 or c2 > 0xbf or c3 < 0x80 or c3 > 0xbf
                or (c == 0xe0 and c2 < 0xa0) or (c == 0xed and c2 > 0x9f)
            then
                return false
            end
            i = i + 3
        elseif c >= 0xf0 and c <= 0xf4 then
            local c2, c3, c4 = string.byte(s, i + 1, i + 3)
            if not c4 or c2 < 0x80 or c2 > 0xbf or c3 < 0x80 or c3 > 0xbf
                or c4 < 0x80 or c4 > 0xbf
                or (c == 0xf0 and c2 < 0x90) or (c == 0xf4 and c2 > 0x8f)
            then
                return false
            end
            i = i + 4
        else
            return false
        end
    end
    return true
end

-- a text argument: 1..max bytes of UTF-8 (empty_ok: 0 too), no NUL
local function text_ok(s, max, empty_ok)
    return s ~= nil and #s <= max and (empty_ok or #s > 0)
        and not string.find(s, '%z') and utf8_ok(s)
end

local JESC = {
    ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
    ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'
}

local function jstr(s)
    local e = string.gsub(s, '[%c"\\]', function(c)
        return JESC[c] or string.format('\\u%04x', string.byte(c))
    end)
    return '"' .. e .. '"'
end

-- JSON that strict parsers read too: cjson also takes NaN, Infinity and
-- hex numbers, which would reach chat bots in the messages.  Outside
-- strings only punctuation, digits, exponents and true/false/null.
local function json_strict(s)
    local out, i = {}, 1
    while true do
        local q = string.find(s, '"', i, true)
        out[#out + 1] = string.sub(s, i, q and q - 1 or #s)
        if not q then
            break
        end
        local j = q + 1
        while true do
            j = string.find(s, '["\\]', j)
            if not j then
                return false
            end
            if string.byte(s, j) == 92 then
                j = j + 2
            else
                break
            end
        end
        i = j + 1
    end
    local rest = table.concat(out, ' ')
    rest = string.gsub(rest, '%a+', function(w)
        if w == 'true' or w == 'false' or w == 'null' or w == 'e'
            or w == 'E'
        then
            return ' '
        end
        return nil
    end)
    return not string.find(rest, '[^%s%[%]{}:,%-%+%.%d]')
end

-- a JSON array of strings, decoded; nil when it is not one
local function str_list(text, max)
    if not text_ok(text, 65536, false) then
        return nil
    end
    local ok, v = pcall(cjson.decode, text)
    if not ok or type(v) ~= 'table' then
        return nil
    end
    local n = 0
    for k, _ in pairs(v) do
        if type(k) ~= 'number' then
            return nil
        end
        n = n + 1
    end
    for i = 1, n do
        if type(v[i]) ~= 'string' or not text_ok(v[i], max, false) then
            return nil
        end
    end
    return v
end

local function jlist(v)
    local out = {}
    for i = 1, #v do
        out[i] = jstr(v[i])
    end
    return '[' .. table.concat(out, ',') .. ']'
end

local function enc(s)
    return (string.gsub(s, '[%%:%c ]', function(c)
        return string.format('%%%02X', string.byte(c))
    end))
end

local function subject_of(principal, rtype, resource, op)
    return enc(principal) .. ':' .. rtype .. ':' .. enc(resource) .. ':' .. op
end

local function id_ok(id)
    return id ~= nil and string.match(id, '^[a-z2-7]+$') and #id == 10
end

local function decimal(s, max_digits)
    return s ~= nil and string.match(s, '^%d+$') and #s <= max_digits
end


-- The message of an event: JSON for the channel, flat fields for the
-- stream (arrays and the request summary as JSON text), both in this order.
local FIELDS = {
    { 'v', 'n' }, { 'event', 's' }, { 'id', 's' }, { 'state', 's' },
    { 'principal', 's' }, { 'groups', 'j' }, { 'resource_type', 's' },
    { 'resource', 's' }, { 'operation', 's' }, { 'rule', 's' },
    { 'approvers', 'j' }, { 'allow_self_approval', 'b' },
    { 'created_ms', 'n' }, { 'expires_ms', 'n' }, { 'grant_ms', 'n' },
    { 'requests', 'n' }, { 'decided_ms', 'n' }, { 'decided_by', 's' },
    { 'decided_groups', 'j' }, { 'reason', 's' }, { 'grant_until_ms', 'n' },
    { 'request', 'j' }, { 'revoked_ms', 'n' }, { 'revoked_by', 's' },
    { 'revoked_groups', 'j' }, { 'revoke_reason', 's' }
}

local HASH_FIELDS = {}
for i, f in ipairs(FIELDS) do
    HASH_FIELDS[i] = f[1]
end

-- the approval hash as a table (nil when it does not exist)
local function load(id)
    local v = redis.call('HMGET', P .. 'approval:' .. id, unpack(HASH_FIELDS))
    if not v[3] then
        return nil
    end
    local a = {}
    for i, f in ipairs(FIELDS) do
        if v[i] then
            a[f[1]] = v[i]
        end
    end
    return a
end

local function notify(event, a, retention_ms)
    local json, fields = {}, {}
    a.event = event
    a.v = '1'
    for _, f in ipairs(FIELDS) do
        local k, kind, val = f[1], f[2], a[f[1]]
        if val ~= nil and val ~= '' then
            local j
            if kind == 's' then
                j = jstr(val)
            elseif kind == 'b' then
                j = (val == '1') and 'true' or 'false'
            else
                j = val
            end
            json[#json + 1] = jstr(k) .. ':' .. j
            fields[#fields + 1] = k
            fields[#fields + 1] = (kind == 'b')
                and ((val == '1') and 'true' or 'false') or val
        end
    end
    redis.call('XADD', EVENTS, '*', unpack(fields))
    if retention_ms > 0 then
        redis.call('XTRIM', EVENTS, 'MINID', '~', num(NOW - retention_ms))
    end
    redis.call('PUBLISH', NOTIFY, '{' .. table.concat(json, ',') .. '}')

    -- the audit trail: format v1 of docs/audit.md, fields in its order
    -- (v ts event principal groups resource_type resource operation
    -- reason rule approval, then by, step); trimmed by its writers
    if AUDIT ~= '' then
        local f = { 'v', '1', 'ts', num(NOW), 'event', 'approval' }
        local by, reason
        if event == 'approved' or event == 'denied' then
            by, reason = a.decided_by, a.reason
        elseif event == 'revoked' then
            by, reason = a.revoked_by, a.revoke_reason
        end
        local function add(k, val)
            if val ~= nil and val ~= '' then
                f[#f + 1] = k
                f[#f + 1] = val
            end
        end
        add('principal', a.principal)
        add('groups', a.groups)
        add('resource_type', a.resource_type)
        add('resource', a.resource)
        add('operation', a.operation)
        add('reason', reason)
        add('rule', a.rule)
        add('approval', a.id)
        add('by', by)
        add('step', event)
        redis.call('XADD', AUDIT, '*', unpack(f))
    end
end

-- a pending approval leaves the index with its final state
local function close(id, a, state)
    redis.call('ZREM', PENDING, id)
    redis.call('HSET', P .. 'approval:' .. id, 'state', state,
               'decided_ms', num(NOW))
    a.state = state
    a.decided_ms = num(NOW)
end

-- a decided approval is kept for the retention (0: for good) after
-- extra_ms (the grant it opened)
local function keep(id, extra_ms, retention_ms)
    local key = P .. 'approval:' .. id
    if retention_ms > 0 then
        redis.call('PEXPIRE', key, extra_ms + retention_ms)
    else
        redis.call('PERSIST', key)
    end
end

-- expire up to max overdue pending approvals; their ids
local function sweep(max, retention_ms)
    local ids = redis.call('ZRANGEBYSCORE', PENDING, '-inf', num(NOW),
                           'LIMIT', 0, max)
    local done = {}
    for _, id in ipairs(ids) do
        local a = load(id)
        if a and a.state == 'pending' then
            close(id, a, 'expired')
            local skey = P .. 'approvals:subject:'
                .. subject_of(a.principal, a.resource_type, a.resource,
                              a.operation)
            if redis.call('GET', skey) == id then
                redis.call('DEL', skey)
            end
            keep(id, 0, retention_ms)
            notify('expired', a, retention_ms)
            done[#done + 1] = id
        else
            redis.call('ZREM', PENDING, id)
        end
    end
    if retention_ms > 0 then
        redis.call('ZREMRANGEBYSCORE', ALL, '-inf', num(NOW - retention_ms))
    end
    return done
end

-- the optional audit stream argument at ARGV[n]: true when valid
local AUDIT_BAD = tostring(OP) .. ': the audit stream is a key of 1-1024 bytes that '
                  .. 'is a stream or absent'
local function audit_arg(n)
    local s = ARGV[n]
    if s == nil or s == '' then
        return true
    end
    if not text_ok(s, 1024, false) then
        return false
    end
    -- checked first: a script's writes before an error stay done
    local t = redis.call('TYPE', s)
    t = type(t) == 'table' and t.ok or t
    if t ~= 'stream' and t ~= 'none' then
        return false
    end
    AUDIT = s
    return true
end

local function retention_arg(s)
    if not decimal(s, 10) then
        return nil
    end
    return tonumber(s) * 1000
end


-- ----------------------------------------------------------------------

if OP == 'request' then
    local id, principal, groups_json, rtype, resource, op, rule,
          approvers_json, self_ok, grant_ms, expire_ms, retention, summary =
        ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9],
        ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15]

    if #ARGV ~= 15 and #ARGV ~= 16 then
        return bad('request: 13 arguments after the prefix (14 with the '
                   .. 'audit stream)')
    end
    if not audit_arg(16) then
        return bad(AUDIT_BAD)
    end
    if not id_ok(id) then
        return bad('request: id is 10 characters a-z, 2-7')
    end
    if not text_ok(principal, MAX_NAME) or not text_ok(resource, MAX_NAME)
        or not text_ok(rule, 128)
    then
        return bad('request: principal, resource (1-1024 bytes) and rule '
                   .. '(1-128) are UTF-8 text')
    end
    if not string.match(rtype, '^[a-z_]+$')
        or not string.match(op, '^[a-z_]+$')
    then
        return bad('request: resource_type and operation are names '
                   .. '(topic, write)')
    end
    local groups = str_list(groups_json, MAX_NAME)
    local approvers = str_list(approvers_json, MAX_NAME + 6)
    if not groups or not approvers or #approvers == 0 then
        return bad('request: groups is a JSON array of strings, approvers '
                   .. 'a non-empty one')
    end
    if (self_ok ~= '0' and self_ok ~= '1')
        or not decimal(grant_ms, 13) or not decimal(expire_ms, 13)
        or tonumber(grant_ms) < 1 or tonumber(expire_ms) < 1
    then
        return bad('request: allow_self 0 or 1, grant_ms and expire_ms '
                   .. 'positive decimal milliseconds')
    end
    local retention_ms = retention_arg(retention)
    if not retention_ms then
        return bad('request: retention_s is decimal seconds')
    end
    if summary ~= '' then
        local ok, v = pcall(cjson.decode, summary)
        if not text_ok(summary, MAX_TEXT) or not ok or type(v) ~= 'table'
            or string.sub(summary, 1, 1) ~= '{' or not json_strict(summary)
        then
            return bad('request: summary is a JSON object of at most '
                       .. MAX_TEXT .. ' bytes, or empty')
        end
    end

    sweep(SWEEP, retention_ms)

    local subject = subject_of(principal, rtype, resource, op)
    local skey = P .. 'approvals:subject:' .. subject

    local jit = redis.call('GET', P .. 'jit:' .. subject)
    if jit then
        local left = redis.call('PTTL', P .. 'jit:' .. subject)
        return { 'granted', jit, 0, left > 0 and left or 0, '' }
    end

    local open = redis.call('GET', skey)
    if open then
        local a = load(open)
        if a and a.state == 'pending' and tonumber(a.expires_ms) > NOW then
            redis.call('HINCRBY', P .. 'approval:' .. open, 'requests', 1)
            return { 'pending', open, 0, tonumber(a.expires_ms) - NOW, '' }
        end
        if a and a.state == 'denied' then
            local left = redis.call('PTTL', skey)
            return { 'denied', open, 0, left > 0 and left or 0,
                     a.reason or '' }
        end
    end

    local key = P .. 'approval:' .. id
    if redis.call('EXISTS', key) == 1 then
        return redis.error_reply('IDCOLLISION approval ' .. id
                                 .. ' exists: ask again with a new id')
    end

    local expires = NOW + tonumber(expire_ms)
    local a = {
        id = id, state = 'pending', principal = principal,
        groups = jlist(groups), resource_type = rtype, resource = resource,
        operation = op, rule = rule, approvers = jlist(approvers),
        allow_self_approval = self_ok, created_ms = num(NOW),
        expires_ms = num(expires), grant_ms = grant_ms, requests = '1',
        request = summary
    }

    local hset = { 'v', '1' }
    for _, f in ipairs(FIELDS) do
        if a[f[1]] ~= nil and f[1] ~= 'v' then
            hset[#hset + 1] = f[1]
            hset[#hset + 1] = a[f[1]]
        end
    end
    redis.call('HSET', key, unpack(hset))
    if retention_ms > 0 then
        redis.call('PEXPIRE', key, tonumber(expire_ms) + retention_ms
                                   + tonumber(grant_ms))
    end
    redis.call('SET', skey, id, 'PX', expire_ms)
    redis.call('ZADD', PENDING, num(expires), id)
    redis.call('ZADD', ALL, num(NOW), id)
    notify('requested', a, retention_ms)

    return { 'pending', id, 1, tonumber(expire_ms), '' }
end


if OP == 'decide' then
    local id, decision, approver, groups_json, reason, retention =
        ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]

    if #ARGV ~= 8 and #ARGV ~= 9 then
        return bad('decide: 6 arguments after the prefix (7 with the '
                   .. 'audit stream)')
    end
    if not audit_arg(9) then
        return bad(AUDIT_BAD)
    end
    if not id_ok(id) then
        return bad('decide: id is 10 characters a-z, 2-7')
    end
    if decision ~= 'approve' and decision ~= 'deny' then
        return bad('decide: approve or deny')
    end
    if not text_ok(approver, MAX_NAME) then
        return bad('decide: the approver is 1-1024 bytes of UTF-8')
    end
    local groups = str_list(groups_json, MAX_NAME)
    if not groups then
        return bad('decide: approver groups is a JSON array of strings')
    end
    if not text_ok(reason, MAX_TEXT, decision == 'approve') then
        return bad('decide: ' .. (decision == 'deny'
                                  and 'a denial needs a reason' or 'reason')
                   .. ' (UTF-8, at most ' .. MAX_TEXT .. ' bytes)')
    end
    local retention_ms = retention_arg(retention)
    if not retention_ms then
        return bad('decide: retention_s is decimal seconds')
    end

    sweep(SWEEP, retention_ms)

    local a = load(id)
    if not a then
        return redis.error_reply('NOAPPROVAL approval ' .. id
                                 .. ' does not exist (or is past retention)')
    end

    local want = (decision == 'approve') and 'approved' or 'denied'

    if a.state ~= 'pending' then
        if a.state == want and a.decided_by == approver then
            return { want, id, 1,
                     want == 'approved' and tonumber(a.grant_ms) or 0,
                     a.reason or '' }
        end
        if a.state == 'expired' then
            return redis.error_reply('DECIDED approval ' .. id
                                     .. ' expired undecided')
        end
        return redis.error_reply('DECIDED approval ' .. id .. ' is '
                                 .. a.state .. ' already (by '
                                 .. (a.decided_by or '?') .. ')')
    end

    -- the approvers recorded when it was asked
    local ok, approvers = pcall(cjson.decode, a.approvers or '[]')
    if not ok or type(approvers) ~= 'table' then
        approvers = {}
    end
    local listed = {}
    for _, s in ipairs(approvers) do
        listed[s] = true
    end
    local allowed = listed['User:' .. approver] or listed['User:*']
    for _, g in ipairs(groups) do
        allowed = allowed or listed['Group:' .. g]
    end
    if not allowed then
        return redis.error_reply('NOTAPPROVER ' .. approver
                                 .. ' may not decide approval ' .. id
                                 .. ' (approvers: '
                                 .. table.concat(approvers, ', ') .. ')')
    end
    if decision == 'approve' and approver == a.principal
        and a.allow_self_approval ~= '1'
    then
        return redis.error_reply('SELFAPPROVAL ' .. approver
                                 .. ' asked for approval ' .. id
                                 .. ': rule ' .. a.rule
                                 .. ' does not allow self-approval')
    end

    local key = P .. 'approval:' .. id
    local subject = subject_of(a.principal, a.resource_type, a.resource,
                               a.operation)
    local skey = P .. 'approvals:subject:' .. subject
    local open = redis.call('GET', skey)

    close(id, a, want)
    a.decided_by = approver
    a.decided_groups = jlist(groups)
    a.reason = reason
    redis.call('HSET', key, 'decided_by', approver, 'decided_groups',
               a.decided_groups, 'reason', reason)

    local grant = tonumber(a.grant_ms)

    if want == 'approved' then
        a.grant_until_ms = num(NOW + grant)
        redis.call('HSET', key, 'grant_until_ms', a.grant_until_ms)
        redis.call('SET', P .. 'jit:' .. subject, id, 'PX', a.grant_ms)
        if open == id then
            redis.call('DEL', skey)
        end
        keep(id, grant, retention_ms)
    else
        if open == id then
            redis.call('SET', skey, id, 'PX', DENIED_MS)
        end
        keep(id, 0, retention_ms)
    end

    notify(want, a, retention_ms)

    return { want, id, 0, want == 'approved' and grant or 0,
             want == 'denied' and reason or '' }
end


-- A just-in-time grant ended early.  Who may: the approvers recorded with
-- the approval (as for decide), and its principal (giving a grant up).
-- The gateways' requests then find no grant and ask again; a gateway
-- remembers a grant per connection for at most 2 s (hoop_hold.c).
if OP == 'revoke' then
    local id, revoker, groups_json, reason, retention =
        ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]

    if #ARGV ~= 7 and #ARGV ~= 8 then
        return bad('revoke: 5 arguments after the prefix (6 with the '
                   .. 'audit stream)')
    end
    if not audit_arg(8) then
        return bad(AUDIT_BAD)
    end
    if not id_ok(id) then
        return bad('revoke: id is 10 characters a-z, 2-7')
    end
    if not text_ok(revoker, MAX_NAME) then
        return bad('revoke: the revoker is 1-1024 bytes of UTF-8')
    end
    local groups = str_list(groups_json, MAX_NAME)
    if not groups then
        return bad('revoke: revoker groups is a JSON array of strings')
    end
    if not text_ok(reason, MAX_TEXT, true) then
        return bad('revoke: reason (UTF-8, at most ' .. MAX_TEXT
                   .. ' bytes)')
    end
    local retention_ms = retention_arg(retention)
    if not retention_ms then
        return bad('revoke: retention_s is decimal seconds')
    end

    sweep(SWEEP, retention_ms)

    local a = load(id)
    if not a then
        return redis.error_reply('NOAPPROVAL approval ' .. id
                                 .. ' does not exist (or is past retention)')
    end

    if a.state == 'revoked' then
        if a.revoked_by == revoker then
            return { 'revoked', id, 1, 0, '' }
        end
        return redis.error_reply('NOTACTIVE the grant of approval ' .. id
                                 .. ' was revoked already (by '
                                 .. (a.revoked_by or '?') .. ')')
    end
    if a.state ~= 'approved' then
        return redis.error_reply('NOTACTIVE approval ' .. id .. ' is '
                                 .. a.state .. ': it has no grant')
    end

    local jkey = P .. 'jit:'
        .. subject_of(a.principal, a.resource_type, a.resource, a.operation)
    local left = 0
    if redis.call('GET', jkey) == id then
        left = redis.call('PTTL', jkey)
    end
    if left <= 0 then
        return redis.error_reply('NOTACTIVE the grant of approval ' .. id
                                 .. ' ended already')
    end

    local ok, approvers = pcall(cjson.decode, a.approvers or '[]')
    if not ok or type(approvers) ~= 'table' then
        approvers = {}
    end
    local listed = {}
    for _, s in ipairs(approvers) do
        listed[s] = true
    end
    local allowed = revoker == a.principal or listed['User:' .. revoker]
        or listed['User:*']
    for _, g in ipairs(groups) do
        allowed = allowed or listed['Group:' .. g]
    end
    if not allowed then
        return redis.error_reply('NOTAPPROVER ' .. revoker
                                 .. ' may not revoke the grant of approval '
                                 .. id .. ' (approvers: '
                                 .. table.concat(approvers, ', ')
                                 .. '; or its principal)')
    end

    redis.call('DEL', jkey)

    a.state = 'revoked'
    a.revoked_ms = num(NOW)
    a.revoked_by = revoker
    a.revoked_groups = jlist(groups)
    a.revoke_reason = reason
    a.grant_until_ms = num(NOW)
    redis.call('HSET', P .. 'approval:' .. id, 'state', 'revoked',
               'revoked_ms', a.revoked_ms, 'revoked_by', revoker,
               'revoked_groups', a.revoked_groups, 'revoke_reason', reason,
               'grant_until_ms', a.grant_until_ms)
    keep(id, 0, retention_ms)

    notify('revoked', a, retention_ms)

    return { 'revoked', id, 0, left, '' }
end


if OP == 'status' then
    local id = ARGV[3]
    if #ARGV ~= 3 or not id_ok(id) then
        return bad('status: id is 10 characters a-z, 2-7')
    end

    local a = load(id)
    if not a then
        return redis.error_reply('NOAPPROVAL approval ' .. id
                                 .. ' does not exist (or is past retention)')
    end

    local expires = tonumber(a.expires_ms) or 0

    if a.state == 'pending' then
        if expires > NOW then
            return { 'pending', id, 0, expires - NOW, '' }
        end
        return { 'expired', id, 0, 0, '' }
    end

    if a.state == 'approved' then
        local jkey = P .. 'jit:'
            .. subject_of(a.principal, a.resource_type, a.resource,
                          a.operation)
        local left = 0
        if redis.call('GET', jkey) == id then
            left = redis.call('PTTL', jkey)
        end
        return { 'approved', id, 0, left > 0 and left or 0,
                 a.decided_by or '' }
    end

    if a.state == 'denied' then
        return { 'denied', id, 0, 0, a.reason or '' }
    end

    if a.state == 'revoked' then
        return { 'revoked', id, 0, 0, a.revoked_by or '' }
    end

    return { a.state, id, 0, 0, '' }
end


if OP == 'expire' then
    local max, retention = ARGV[3], ARGV[4]
    if (#ARGV ~= 4 and #ARGV ~= 5) or not decimal(max, 6)
        or tonumber(max) < 1
    then
        return bad('expire: max is a decimal count from 1')
    end
    if not audit_arg(5) then
        return bad(AUDIT_BAD)
    end
    local retention_ms = retention_arg(retention)
    if not retention_ms then
        return bad('expire: retention_s is decimal seconds')
    end
    return sweep(tonumber(max), retention_ms)
end


return bad('unknown operation "' .. string.sub(OP, 1, 32)
           .. '" (request, decide, revoke, status, expire)')
