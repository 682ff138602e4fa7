//! No PowerShell runs on Linux, so ccenv's PowerShell output is checked by a test-only
//! tokenizer that follows PowerShell's own string scanning (engine/parser/CharTraits.cs,
//! tokenizer.cs: five single-quote characters, a doubled one appends the second, no
//! escapes inside '…'; four double-quote characters open an expandable string) and an
//! evaluator that accepts only the statements ccenv means to emit. Anything else — an
//! extra command, a comment, an expandable string — fails the test.

mod common;

use std::collections::BTreeMap;

use common::Sandbox;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Var { scope: String, name: String },
    Str(String),
    Num(i128),
    Type(String),
    Op(&'static str),
    Word(String),
    End,
}

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '\n' | '\r' | ';' => {
                toks.push(Tok::End);
                i += 1;
            }
            '#' => return Err("comment".into()),
            '`' => return Err("backtick escape outside a string".into()),
            c if is_double_quote(c) => return Err(format!("expandable string at {i}")),
            c if is_single_quote(c) => {
                i += 1;
                let mut s = String::new();
                loop {
                    let Some(&d) = chars.get(i) else { return Err("unterminated string".into()) };
                    if is_single_quote(d) {
                        match chars.get(i + 1) {
                            Some(&e) if is_single_quote(e) => {
                                s.push(e);
                                i += 2;
                            }
                            _ => {
                                i += 1;
                                break;
                            }
                        }
                    } else {
                        s.push(d);
                        i += 1;
                    }
                }
                toks.push(Tok::Str(s));
            }
            '$' => {
                if chars.get(i + 1) == Some(&'{') {
                    return Err("braced variable".into());
                }
                let start = i + 1;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | ':')) {
                    i += 1;
                }
                let full: String = chars[start..i].iter().collect();
                let (scope, name) = full.split_once(':').ok_or(format!("unscoped variable ${full}"))?;
                toks.push(Tok::Var { scope: scope.into(), name: name.into() });
            }
            '[' => {
                let end = chars[i..].iter().position(|&c| c == ']').ok_or("unclosed [")? + i;
                toks.push(Tok::Type(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '@' if chars.get(i + 1) == Some(&'(') => {
                toks.push(Tok::Op("@("));
                i += 2;
            }
            ':' if chars.get(i + 1) == Some(&':') => {
                toks.push(Tok::Op("::"));
                i += 2;
            }
            '(' | ')' | ',' | '+' | '=' | '.' => {
                toks.push(Tok::Op(match c {
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    '+' => "+",
                    '=' => "=",
                    _ => ".",
                }));
                i += 1;
            }
            '0'..='9' => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = match text.strip_prefix("0x") {
                    Some(h) => i128::from_str_radix(h, 16),
                    None => text.parse(),
                };
                toks.push(Tok::Num(n.map_err(|e| format!("number {text}: {e}"))?));
            }
            c if c.is_ascii_alphabetic() || c == '-' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | '_')) {
                    i += 1;
                }
                toks.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?} at {i}")),
        }
    }
    Ok(toks)
}

/// What a PowerShell session ends up with after running the script.
#[derive(Debug, Default, PartialEq)]
struct Effects {
    env: BTreeMap<String, Option<String>>,
    globals: BTreeMap<String, Vec<String>>,
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let val = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("bad base64 {}", c as char)),
        } as u32)
    };
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return Err("base64 length".into());
    }
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        let mut n = 0u32;
        for (k, &b) in chunk.iter().enumerate() {
            n |= if b == b'=' { 0 } else { val(b)? } << (18 - 6 * k);
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..3 - pad]);
    }
    Ok(out)
}

/// One value: '…', or [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('…')).
fn value(t: &[Tok]) -> Result<String, String> {
    use Tok::*;
    match t {
        [Str(s)] => Ok(s.clone()),
        [
            Type(te),
            Op("::"),
            Word(utf8),
            Op("."),
            Word(get),
            Op("("),
            Type(conv),
            Op("::"),
            Word(from),
            Op("("),
            Str(b64),
            Op(")"),
            Op(")"),
        ] if te == "Text.Encoding"
            && utf8 == "UTF8"
            && get == "GetString"
            && conv == "Convert"
            && from == "FromBase64String" =>
        {
            String::from_utf8(base64_decode(b64)?).map_err(|e| e.to_string())
        }
        other => Err(format!("not a value: {other:?}")),
    }
}

fn evaluate(script: &str) -> Result<Effects, String> {
    use Tok::*;
    let toks = tokenize(script)?;
    let mut fx = Effects::default();
    for stmt in toks.split(|t| *t == End).filter(|s| !s.is_empty()) {
        match stmt {
            [Var { scope, name }, Op("="), rest @ ..] if scope == "env" => {
                fx.env.insert(name.clone(), Some(value(rest)?));
            }
            [Var { scope, name }, Op("="), rest @ ..] if scope == "global" => {
                let v = match rest {
                    [Type(t), Num(n)] if t == "long" => vec![n.to_string()],
                    [Op("@("), items @ .., Op(")")] => items
                        .split(|t| *t == Op(","))
                        .filter(|i| !i.is_empty())
                        .map(value)
                        .collect::<Result<_, _>>()?,
                    v => vec![value(v)?],
                };
                fx.globals.insert(name.clone(), v);
            }
            [Word(cmd), Word(lp), Str(path), Word(ea), Word(ignore)]
                if cmd == "Remove-Item"
                    && lp == "-LiteralPath"
                    && ea == "-ErrorAction"
                    && ignore == "Ignore" =>
            {
                let name = path.strip_prefix("Env:").ok_or(format!("removes {path}"))?;
                fx.env.insert(name.to_string(), None);
            }
            other => return Err(format!("unexpected statement: {other:?}")),
        }
    }
    Ok(fx)
}

#[test]
fn the_tokenizer_follows_powershell_string_rules() {
    // Golden vectors: doubling appends the second character; each of the five ends a string.
    assert_eq!(tokenize("'Bob’’s'").unwrap(), vec![Tok::Str("Bob’s".into())]);
    assert_eq!(tokenize("'it''s'").unwrap(), vec![Tok::Str("it's".into())]);
    assert_eq!(tokenize("‘a‛").unwrap(), vec![Tok::Str("a".into())]);
    // The smart-quote injection that direnv's and mise's quoting allows is caught.
    let naive = "$env:A = 'x’; Write-Host pwned; ’'";
    let e = evaluate(naive).unwrap_err();
    assert!(e.contains("Write-Host"), "{e}");
    assert!(evaluate("$env:A = \"$(whoami)\"").is_err());
    assert!(evaluate("$env:A = 'a' # hidden").is_err());
}

fn corpus() -> Vec<String> {
    let mut v = common::hostile_values();
    v.push("’".repeat(3000));
    v.push("A".repeat(4096));
    v
}

#[test]
fn hostile_values_are_assigned_exactly_and_nothing_else_runs() {
    let sb = Sandbox::new();
    let values = corpus();
    let dir = common::env_project(&sb, "p", &common::indexed(&values));
    let before: Vec<(String, String)> = values
        .iter()
        .enumerate()
        .map(|(i, _)| (format!("T_{i}"), values[(i + 5) % values.len()].clone()))
        .collect();
    let env: Vec<(&str, &str)> = before
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("ANTHROPIC_API_KEY", "sk-real-’-key")])
        .collect();

    let out = sb.ccenv_with(&dir, &["export", "--shell", "powershell"], &env, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.is_ascii(), "PowerShell output must be ASCII");
    let fx = evaluate(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
    for (i, v) in values.iter().enumerate() {
        assert_eq!(fx.env.get(&format!("T_{i}")), Some(&Some(v.clone())), "T_{i}");
    }
    assert_eq!(fx.env.get("ANTHROPIC_API_KEY"), Some(&None), "the user's key is removed");
    assert_eq!(fx.env["ANTHROPIC_AUTH_TOKEN"].as_deref(), Some("ollama"));
    let state = fx.env["CCENV_STATE"].clone().unwrap();
    assert!(!state.contains("sk-real"), "{state}");

    // Leaving restores the earlier hostile values, through the same emitter.
    let mut env2 = env.clone();
    let applied: Vec<(String, String)> =
        fx.env.iter().filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))).collect();
    env2.retain(|(k, _)| !fx.env.contains_key(*k));
    env2.extend(applied.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let out = sb.ccenv_with(&sb.work("elsewhere"), &["export", "--shell", "pwsh"], &env2, None);
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.is_ascii());
    let fx = evaluate(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
    for (k, v) in &before {
        assert_eq!(fx.env.get(k), Some(&Some(v.clone())), "{k} restored");
    }
    assert_eq!(fx.env["ANTHROPIC_API_KEY"].as_deref(), Some("sk-real-’-key"));
    assert_eq!(fx.env.get("CCENV_STATE"), Some(&None));
}

#[test]
fn the_hook_gets_watch_lists_and_a_tick_stamp() {
    let sb = Sandbox::new();
    let dir = common::env_project(&sb, "p", &common::indexed(&["x"]));
    let out = sb.ccenv(&dir, &["hook-env", "powershell", "4242", ""]);
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.is_ascii());
    let fx = evaluate(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
    let present = &fx.globals["__ccenv_present"];
    assert!(present.iter().any(|p| p.ends_with(".claude-provider.toml")), "{present:?}");
    assert!(!fx.globals["__ccenv_absent"].is_empty());
    let ticks: i128 = fx.globals["__ccenv_stamp"][0].parse().unwrap();
    let now_ticks = 621_355_968_000_000_000
        + std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i128
            / 100;
    assert!((now_ticks - ticks).abs() < 600_000_000, "stamp is .NET ticks of now: {ticks} vs {now_ticks}");
    assert_eq!(fx.env["T_0"].as_deref(), Some("x"));
}

#[test]
fn the_hook_script_is_ascii_and_names_the_binary_safely() {
    let sb = Sandbox::new();
    for shell in ["powershell", "pwsh"] {
        let hook = sb.ok(sb.dir.path(), &["hook", shell]);
        assert!(hook.is_ascii());
        let first = hook.lines().find(|l| l.starts_with("$global:__ccenv_exe")).unwrap();
        let fx = evaluate(first).unwrap();
        assert_eq!(fx.globals["__ccenv_exe"], vec![common::CCENV.to_string()]);
        assert!(hook.contains("LocationChangedAction") && hook.contains("function global:prompt"));
    }
}

#[test]
fn ten_thousand_generated_values_are_assigned_exactly() {
    let sb = Sandbox::new();
    let values = common::random_values(10_000, 0x005e_ed0f_7e11);
    let mut checked = 0;
    for (n, batch) in common::batches(&values).into_iter().enumerate() {
        let dir = common::env_project(&sb, &format!("b{n}"), &batch);
        let out = sb.ccenv(&dir, &["export", "--shell", "powershell"]);
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.is_ascii());
        let fx = evaluate(&script).unwrap_or_else(|e| panic!("{e}"));
        for (i, v) in &batch {
            assert_eq!(fx.env.get(&format!("T_{i}")), Some(&Some(v.clone())), "T_{i} = {v:?}");
        }
        checked += batch.len();
    }
    assert_eq!(checked, 10_000);
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"powershell: 10000 generated values assigned exactly, 0 extra statements\n",
    );
}
