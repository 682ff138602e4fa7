//! What the user reads: `usage` (a table and a bar chart per project, provider, model or
//! day) and `status`. Every string that came from the database or the server is escaped
//! first: a project path can hold terminal control sequences.

use anyhow::{Result, bail};
use rusqlite::Connection;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub(crate) enum By {
    Project,
    Provider,
    Model,
    Day,
}

/// ccenv's one escaping: controls, bidi and invisible formatting characters shown as
/// `\e`, `\x07`, `\u{202e}`.
pub(crate) use ccenv::output::escape;

/// `7d`, `12h`, `30m` or `2w` → seconds.
pub(crate) fn parse_since(s: &str) -> Result<i64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("--since `{}`: expected a number and a unit, like 7d", escape(s)))?;
    let mult = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => bail!("--since `{}`: the unit must be m, h, d or w (for example 7d)", escape(s)),
    };
    Ok(n.saturating_mul(mult))
}

pub(crate) struct Row {
    pub key: String,
    pub requests: i64,
    pub errors: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
}

pub(crate) fn query(conn: &Connection, since_secs: i64, by: By, now: i64) -> Result<Vec<Row>> {
    let key = match by {
        By::Project => "project",
        By::Provider => "provider",
        By::Model => "model",
        By::Day => "date(ts, 'unixepoch')",
    };
    let order = if by == By::Day { "key" } else { "SUM(tokens_in + tokens_out) DESC, key" };
    let sql = format!(
        "SELECT {key} AS key, COUNT(*), SUM(status >= 400), SUM(tokens_in), SUM(tokens_out)
         FROM requests WHERE ts >= ?1 GROUP BY key ORDER BY {order}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([now - since_secs], |r| {
        Ok(Row {
            key: r.get(0)?,
            requests: r.get(1)?,
            errors: r.get(2)?,
            tokens_in: r.get(3)?,
            tokens_out: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn to_json(rows: &[Row]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| json!({"key": r.key, "requests": r.requests, "errors": r.errors, "tokens_in": r.tokens_in, "tokens_out": r.tokens_out}))
            .collect(),
    )
}

const BAR: usize = 24;

pub(crate) fn table(rows: &[Row], by: By) -> String {
    if rows.is_empty() {
        return "no requests recorded in this period\n".into();
    }
    let keys: Vec<String> = rows.iter().map(|r| escape(&r.key)).collect();
    let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0).clamp(7, 60);
    let max = rows.iter().map(|r| r.tokens_in + r.tokens_out).max().unwrap_or(0).max(1);
    let mut out = format!(
        "{:<width$}  {:>8}  {:>6}  {:>12}  {:>12}  tokens\n",
        format!("{by:?}").to_lowercase(),
        "requests",
        "errors",
        "tokens in",
        "tokens out"
    );
    for (r, k) in rows.iter().zip(&keys) {
        let total = r.tokens_in + r.tokens_out;
        let cells = ((total as f64 / max as f64) * BAR as f64).round() as usize;
        let bar = if total > 0 { "█".repeat(cells.max(1)) } else { String::new() };
        let k: String = if k.chars().count() > width {
            k.chars().take(width - 1).chain(['…']).collect()
        } else {
            k.clone()
        };
        out.push_str(&format!(
            "{k:<width$}  {:>8}  {:>6}  {:>12}  {:>12}  {bar}\n",
            r.requests, r.errors, r.tokens_in, r.tokens_out
        ));
    }
    out
}

pub(crate) fn print_status(v: &Value) {
    println!("ccenv gateway running on 127.0.0.1:{} (pid {})", v["port"], v["pid"]);
    if let Some(serving) = v["serving"].as_object() {
        for (project, provider) in serving {
            println!("  {} → {}", escape(project), escape(provider.as_str().unwrap_or("?")));
        }
    }
    if let Some(ups) = v["upstreams"].as_object() {
        for (id, u) in ups {
            let state = match u["cooling_secs"].as_u64() {
                Some(s) => {
                    format!("cooling down for {s}s after: {}", escape(u["last_error"].as_str().unwrap_or("")))
                }
                None => "available".to_string(),
            };
            println!("  {}: {state} (served {}, failed {})", escape(id), u["served"], u["failed"]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(escape("/w/a\u{1b}]0;pwn\u{7}b"), "/w/a\\e]0;pwn\\x07b");
        assert_eq!(escape("x\u{202e}y\u{9b}z"), "x\\u{202e}y\\u{9b}z");
        assert_eq!(escape("日本 ok"), "日本 ok");
    }

    #[test]
    fn since_units() {
        assert_eq!(parse_since("7d").unwrap(), 7 * 86_400);
        assert_eq!(parse_since("12h").unwrap(), 12 * 3600);
        assert!(parse_since("7").is_err() && parse_since("d").is_err() && parse_since("3y").is_err());
    }

    #[test]
    fn usage_is_grouped_and_charted() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::usage::open(&dir.path().join("u.db")).unwrap();
        let ins = "INSERT INTO requests (ts, project, provider, model, tokens_in, tokens_out, status, latency_ms) VALUES (?1, ?2, ?3, 'm', ?4, ?5, ?6, 5)";
        for (ts, project, provider, i, o, st) in [
            (1000, "/a", "groq", 100, 50, 200),
            (1000, "/a", "kimi", 10, 0, 429),
            (1000, "/b\u{1b}[2J", "groq", 1000, 500, 200),
            (10, "/old", "groq", 9, 9, 200),
        ] {
            conn.execute(ins, rusqlite::params![ts, project, provider, i, o, st]).unwrap();
        }
        let rows = query(&conn, 100, By::Project, 1050).unwrap();
        assert_eq!(rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["/b\u{1b}[2J", "/a"]);
        assert_eq!((rows[1].requests, rows[1].errors, rows[1].tokens_in), (2, 1, 110));
        let t = table(&rows, By::Project);
        assert!(!t.contains('\u{1b}') && t.contains("/b\\e[2J"), "{t}");
        assert!(t.lines().nth(1).unwrap().ends_with(&"█".repeat(BAR)), "{t}");
        let by_provider = query(&conn, 100, By::Provider, 1050).unwrap();
        assert_eq!(by_provider[0].key, "groq");
    }
}
