//! What the Clink hook (hooks/ccenv.lua) reads: one instruction per line, values in
//! hex, so the Lua side parses data and never loads code.
//!   set NAME HEX · unset NAME · var NAME HEX · list NAME HEX…

use std::time::{SystemTime, UNIX_EPOCH};

use std::path::PathBuf;

use super::{Hook, Statements};
use crate::core::hex;

pub(crate) struct Clink;

impl Statements for Clink {
    fn export(&self, name: &str, value: &str) -> String {
        format!("set {name} {}\n", hex(value.as_bytes()))
    }

    fn unset(&self, name: &str) -> String {
        format!("unset {name}\n")
    }
}

impl Hook for Clink {
    /// For embedding the binary's path in the Lua script: a Lua long-bracket-free
    /// string with every byte outside printable ASCII, `"` and `\` as `\ddd`.
    fn quote(&self, value: &str) -> String {
        let mut out = String::from("\"");
        for b in value.bytes() {
            if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
                out.push(b as char);
            } else {
                out.push_str(&format!("\\{b:03}"));
            }
        }
        out.push('"');
        out
    }

    fn set_local(&self, name: &str, value: &str) -> String {
        format!("var {name} {}\n", hex(value.as_bytes()))
    }

    fn set_path_list(&self, name: &str, paths: &[PathBuf]) -> String {
        let mut line = format!("list {name}");
        for p in paths {
            line.push(' ');
            line.push_str(&hex(p.to_string_lossy().as_bytes()));
        }
        line.push('\n');
        line
    }

    fn template(&self) -> &'static str {
        include_str!("hooks/ccenv.lua")
    }

    /// Clink reports file times in whole seconds.
    fn stamp(&self, _stamp_file: &str, started: SystemTime) -> String {
        let secs = started.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        self.set_local("__ccenv_stamp", &secs.to_string())
    }
}
