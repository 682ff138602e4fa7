//! The Clink script (`ccenv hook cmd`) runs under a real Lua interpreter (Debian's
//! lua5.4) with a small stand-in for Clink's API: `clink.onbeginedit`, `os.setenv`,
//! `os.getcwd`, `os.getpid`, `os.globfiles(path, 2)` (mtime in whole seconds, as Clink
//! reports it) and an `io.popen` that strips the outer quotes the way `cmd /c` does and
//! runs the command with the environment the script has built. The script drives the
//! real ccenv binary; hostile values must arrive exactly.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Sandbox, have};

const STAND_IN: &str = r#"
local hook_file, steps_file = arg[1], arg[2]
local env, cwd, runs = {}, nil, 0

local function unhex(s) return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)) end
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function shq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local real_popen = io.popen
clink = { onbeginedit = function(f) clink.hook = f end }
os.getcwd = function() return cwd end
os.getpid = function() return 4242 end
os.setenv = function(name, value) env[name] = value end
os.getenv = function(name) return env[name] end
os.globfiles = function(path, extrainfo)
    assert(extrainfo == 2)
    local p = real_popen("stat -c %Y " .. shq(path) .. " 2>/dev/null")
    local out = p:read("*a")
    p:close()
    if out == "" then return {} end
    return { { name = path, type = "file", mtime = tonumber(out) } }
end
io.popen = function(command, mode)
    local inner = assert(command:match('^"(.*)"$'), "cmd /c line must be quoted")
    if inner:find("hook-env", 1, true) then runs = runs + 1 end
    local parts = { "cd " .. shq(cwd) .. " && exec env -i" }
    for k, v in pairs(env) do parts[#parts + 1] = shq(k .. "=" .. v) end
    parts[#parts + 1] = inner
    return real_popen(table.concat(parts, " "), mode)
end

for line in io.lines(steps_file) do
    local op, a, b = line:match("^(%S+) ?(%S*) ?(%S*)$")
    if op == "env" then env[a] = unhex(b)
    elseif op == "load" then dofile(hook_file)
    elseif op == "cd" then cwd = unhex(a)
    elseif op == "prompt" then clink.hook()
    elseif op == "dump" then
        local f = assert(io.open(unhex(a), "w"))
        f:write("__runs ", hex(tostring(runs)), "\n")
        for k, v in pairs(env) do f:write(k, " ", hex(v), "\n") end
        f:close()
    end
end
"#;

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
    String::from_utf8(bytes).unwrap()
}

struct Steps(String);

impl Steps {
    fn env(&mut self, k: &str, v: &str) {
        self.0.push_str(&format!("env {k} {}\n", hex(v)));
    }
    fn cd(&mut self, dir: &Path) {
        self.0.push_str(&format!("cd {}\n", hex(&dir.display().to_string())));
    }
    fn line(&mut self, l: &str) {
        self.0.push_str(l);
        self.0.push('\n');
    }
    fn dump(&mut self, file: &Path) {
        self.0.push_str(&format!("dump {}\n", hex(&file.display().to_string())));
    }
}

fn read_dump(file: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap_or((l, ""));
            (k.to_string(), unhex(v))
        })
        .collect()
}

#[test]
fn clink_script_applies_and_restores_hostile_values_exactly() {
    if !have("lua5.4") {
        return;
    }
    let sb = Sandbox::new();
    let values: Vec<String> =
        common::hostile_values().into_iter().chain([format!("{}end", "é".repeat(3000))]).collect();
    let proj = common::env_project(&sb, "p", &common::indexed(&values));
    let outside = sb.work("outside");

    let hook = sb.path("out/ccenv.lua");
    std::fs::write(&hook, sb.ok(sb.dir.path(), &["hook", "cmd"])).unwrap();
    let stand_in = sb.path("out/stand_in.lua");
    std::fs::write(&stand_in, STAND_IN).unwrap();

    let mut s = Steps(String::new());
    for (k, v) in sb.base_env() {
        s.env(&k, &v);
    }
    s.env("ANTHROPIC_API_KEY", "sk-real’");
    s.env("T_3", "pre-existing \" ' value");
    s.line("load");
    s.cd(&outside);
    s.line("prompt");
    let dumps: Vec<_> = (0..4).map(|i| sb.path(&format!("out/dump{i}"))).collect();
    s.dump(&dumps[0]);
    s.cd(&proj);
    s.line("prompt");
    s.dump(&dumps[1]);
    for _ in 0..10 {
        s.line("prompt");
    }
    s.dump(&dumps[2]);
    s.cd(&outside);
    s.line("prompt");
    s.dump(&dumps[3]);
    let steps = sb.path("out/steps");
    std::fs::write(&steps, &s.0).unwrap();
    // Let the second in which the project was written pass: Clink's file times are
    // whole seconds, and an edit in the same second as a run counts as a change.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let out = Command::new("lua5.4").arg(&stand_in).arg(&hook).arg(&steps).output().unwrap();
    assert!(out.status.success(), "lua: {}", String::from_utf8_lossy(&out.stderr));

    let (before, inside, after) = (read_dump(&dumps[0]), read_dump(&dumps[1]), read_dump(&dumps[3]));
    for (i, v) in values.iter().enumerate() {
        assert_eq!(inside.get(&format!("T_{i}")), Some(v), "T_{i}");
    }
    assert_eq!(inside.get("ANTHROPIC_API_KEY"), None, "the user's key is removed inside");
    assert_eq!(inside["ANTHROPIC_AUTH_TOKEN"], "ollama");
    assert!(!inside["CCENV_STATE"].contains("sk-real"));
    let without_runs = |m: &BTreeMap<String, String>| {
        m.iter()
            .filter(|(k, _)| *k != "__runs")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(without_runs(&after), without_runs(&before), "leaving restores exactly");
    assert_eq!(after["T_3"], "pre-existing \" ' value");

    let runs = |m: &BTreeMap<String, String>| m["__runs"].parse::<u32>().unwrap();
    assert_eq!(runs(&read_dump(&dumps[2])), runs(&inside), "10 unchanged prompts ran ccenv");
    assert_eq!(runs(&after), runs(&inside) + 1);
}
