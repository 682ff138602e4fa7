//! PowerShell 5.1 and 7. Output is ASCII only: PowerShell decodes a native command's
//! output with the console code page, and five characters end a single-quoted string
//! (`'` U+2018 U+2019 U+201A U+201B), some of which a code page can produce from UTF-8
//! bytes. Printable ASCII goes into `'…'` with `'` doubled; any other value is decoded
//! from Base64 at run time, so no such character ever stands inside a literal.

use std::time::{SystemTime, UNIX_EPOCH};

use std::path::PathBuf;

use super::{Hook, Statements};

pub(crate) struct PowerShell;

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
const UNIX_EPOCH_TICKS: u128 = 621_355_968_000_000_000;

impl Hook for PowerShell {
    fn quote(&self, value: &str) -> String {
        debug_assert!(!value.contains('\0'));
        if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            format!("'{}'", value.replace('\'', "''"))
        } else {
            format!(
                "[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{}'))",
                base64(value.as_bytes())
            )
        }
    }

    fn set_local(&self, name: &str, value: &str) -> String {
        format!("$global:{name} = {}\n", self.quote(value))
    }

    fn set_path_list(&self, name: &str, paths: &[PathBuf]) -> String {
        let items: Vec<String> = paths.iter().map(|p| self.quote_path(p)).collect();
        format!("$global:{name} = @({})\n", items.join(", "))
    }

    fn template(&self) -> &'static str {
        include_str!("hooks/ccenv.ps1")
    }

    /// File times are compared in-process as `LastWriteTimeUtc.Ticks`.
    fn stamp(&self, _stamp_file: &str, started: SystemTime) -> String {
        let nanos = started.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        format!("$global:__ccenv_stamp = [long]{}\n", UNIX_EPOCH_TICKS + nanos / 100)
    }
}

impl Statements for PowerShell {
    fn export(&self, name: &str, value: &str) -> String {
        format!("$env:{name} = {}\n", self.quote(value))
    }

    fn unset(&self, name: &str) -> String {
        format!("Remove-Item -LiteralPath 'Env:{name}' -ErrorAction Ignore\n")
    }
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn output_is_ascii_and_smart_quotes_never_stand_in_a_literal() {
        let q = PowerShell.quote("x’; Write-Host pwned; ’");
        assert!(q.is_ascii() && q.starts_with("[Text.Encoding]::UTF8"), "{q}");
        assert_eq!(PowerShell.quote("it's"), "'it''s'");
        assert_eq!(PowerShell.unset("A_B"), "Remove-Item -LiteralPath 'Env:A_B' -ErrorAction Ignore\n");
    }
}
