-- ccenv hook for cmd.exe with Clink (v1.2.31 or later). Install:
--   ccenv hook cmd > "%LOCALAPPDATA%\clink\ccenv.lua"
-- Before each prompt: when the directory or a file ccenv watches changed, run ccenv
-- and apply what it reports with os.setenv. ccenv's output is data (values in hex),
-- parsed here and never loaded as code; nothing is applied unless ccenv succeeded.

local exe = @CCENV@
local vars = { __ccenv_present = {}, __ccenv_absent = {}, __ccenv_stamp = "0", __ccenv_said = "" }
local last_dir, last_state = nil, nil

local function unhex(s)
    return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

-- Modification time of a file or directory in seconds, or nil when it is absent.
local function mtime(path)
    local found = os.globfiles(path, 2)
    if found and found[1] then return found[1].mtime or math.huge end
    return nil
end

local function changed()
    if os.getcwd() ~= last_dir or os.getenv("CCENV_STATE") ~= last_state then return true end
    local stamp = tonumber(vars.__ccenv_stamp) or 0
    for _, f in ipairs(vars.__ccenv_present) do
        local t = mtime(f)
        -- Whole seconds: an edit in the same second as the last run counts as a change.
        if t == nil or t >= stamp then return true end
    end
    for _, f in ipairs(vars.__ccenv_absent) do
        if mtime(f) ~= nil then return true end
    end
    return false
end

-- Reads every instruction first; returns nil if any line is not understood.
local function parse(output)
    local ops = {}
    for line in output:gmatch("[^\n]+") do
        local op, name, rest = line:match("^(%l+) ([%w_]+) ?([%x ]*)$")
        if op == "set" or op == "var" then
            ops[#ops + 1] = { op, name, unhex(rest) }
        elseif op == "unset" and rest == "" then
            ops[#ops + 1] = { op, name }
        elseif op == "list" then
            local items = {}
            for item in rest:gmatch("%x+") do items[#items + 1] = unhex(item) end
            ops[#ops + 1] = { op, name, items }
        else
            return nil
        end
    end
    return ops
end

local function run_ccenv()
    local pid = os.getpid and os.getpid() or 0
    -- cmd /c drops the first and the last quote of a line that starts with one.
    local command = '""' .. exe .. '" hook-env clink ' .. pid .. ' ' .. vars.__ccenv_said .. '"'
    local pipe = io.popen(command, "r")
    if not pipe then return nil end
    local output = pipe:read("*a")
    local ok = pipe:close()
    if not ok then return nil end
    return parse(output)
end

local function hook()
    if not changed() then return end
    last_dir = os.getcwd()
    local ops = run_ccenv()
    if not ops then return end
    for _, op in ipairs(ops) do
        if op[1] == "set" then
            os.setenv(op[2], op[3])
        elseif op[1] == "unset" then
            os.setenv(op[2], nil)
        else
            vars[op[2]] = op[3]
        end
    end
    last_state = os.getenv("CCENV_STATE")
end

-- Tells `ccenv doctor` which shell has the hook (a pid, nothing secret).
os.setenv("CCENV_SHELL", "cmd:" .. (os.getpid and os.getpid() or 0))
clink.onbeginedit(hook)
