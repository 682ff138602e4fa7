//! Removing members from a JSON object in place, keeping every other byte: a user's
//! `~/.claude/settings.json` keeps its formatting, order, statusLine, hooks and plugins
//! (tools that rewrite the whole file lose them). The result is checked against a full
//! parse: it must equal the original minus exactly the removed members.

use anyhow::{Result, bail};
use serde_json::Value;

struct Member {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
    /// For object values: the byte after `{` and the position of `}`.
    object: Option<(usize, usize)>,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        self.ws();
        if self.b.get(self.i) != Some(&c) {
            bail!("expected `{}` at byte {}", c as char, self.i);
        }
        self.i += 1;
        Ok(())
    }

    fn string(&mut self) -> Result<()> {
        self.expect(b'"')?;
        while let Some(&c) = self.b.get(self.i) {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return Ok(()),
                _ => {}
            }
        }
        bail!("unterminated string")
    }

    /// Skips one value; returns the object's inner span when it is an object.
    fn value(&mut self) -> Result<Option<(usize, usize)>> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                let open = self.i + 1;
                self.members()?;
                Ok(Some((open, self.i - 1)))
            }
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(None);
                }
                loop {
                    self.value()?;
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(None);
                        }
                        _ => bail!("expected `,` or `]` at byte {}", self.i),
                    }
                }
            }
            Some(b'"') => self.string().map(|()| None),
            Some(_) => {
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    self.i += 1;
                }
                Ok(None)
            }
            None => bail!("unexpected end"),
        }
    }

    /// Scans `{ … }` starting at the `{`; returns its members.
    fn members(&mut self) -> Result<Vec<Member>> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(members);
        }
        loop {
            self.ws();
            let key_start = self.i;
            self.string()?;
            let key: String = serde_json::from_slice(&self.b[key_start..self.i])?;
            self.expect(b':')?;
            self.ws();
            let value_start = self.i;
            let object = self.value()?;
            members.push(Member { key, key_start, value_start, value_end: self.i, object });
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(members);
                }
                _ => bail!("expected `,` or `}}` at byte {}", self.i),
            }
        }
    }
}

/// Removes `names` from the object under the top-level key `object_key`.
pub(crate) fn remove_members(text: &str, object_key: &str, names: &[String]) -> Result<String> {
    let original: Value = serde_json::from_str(text)?;
    let mut out = text.to_string();
    for name in names {
        out = remove_one(&out, object_key, name)?;
    }
    let mut expected = original;
    if let Some(obj) = expected.get_mut(object_key).and_then(Value::as_object_mut) {
        for n in names {
            obj.remove(n);
        }
    }
    let got: Value = serde_json::from_str(&out)?;
    if got != expected {
        bail!("internal error: the edit changed more than the removed keys; nothing was written");
    }
    Ok(out)
}

/// The members of the object under the top-level key `object_key`, with its inner span.
fn inner_members(text: &str, object_key: &str) -> Result<Option<(Vec<Member>, usize, usize)>> {
    let top = Scanner { b: text.as_bytes(), i: 0 }.members()?;
    let Some((open, close)) = top.iter().find(|m| m.key == object_key).and_then(|m| m.object) else {
        return Ok(None);
    };
    Ok(Some((Scanner { b: text.as_bytes(), i: open - 1 }.members()?, open, close)))
}

/// 1-based line and column of the value of `name` in the object under `object_key`,
/// for errors that point at one entry of a file that parsed.
pub(crate) fn value_position(text: &str, object_key: &str, name: &str) -> Option<(usize, usize)> {
    let (members, _, _) = inner_members(text, object_key).ok()??;
    let at = members.iter().find(|m| m.key == name)?.value_start;
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Some((before.matches('\n').count() + 1, before[line_start..].chars().count() + 1))
}

fn remove_one(text: &str, object_key: &str, name: &str) -> Result<String> {
    let Some((members, open, close)) = inner_members(text, object_key)? else {
        return Ok(text.to_string());
    };
    let Some(pos) = members.iter().position(|m| m.key == name) else { return Ok(text.to_string()) };
    let range = if members.len() == 1 {
        open..close
    } else if pos + 1 < members.len() {
        members[pos].key_start..members[pos + 1].key_start
    } else {
        members[pos - 1].value_end..members[pos].value_end
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..range.start]);
    out.push_str(&text[range.end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn removes_first_middle_last_and_only_members_keeping_formatting() {
        let text = "{\n  \"env\": {\n    \"A\": \"1\",\n    \"B\": 2,\n    \"C\": {\"x\": [1, \"}\"]}\n  },\n  \"statusLine\": {\"type\": \"command\"}\n}\n";
        assert_eq!(
            remove_members(text, "env", &names(&["B"])).unwrap(),
            "{\n  \"env\": {\n    \"A\": \"1\",\n    \"C\": {\"x\": [1, \"}\"]}\n  },\n  \"statusLine\": {\"type\": \"command\"}\n}\n"
        );
        assert_eq!(
            remove_members(text, "env", &names(&["A"])).unwrap(),
            "{\n  \"env\": {\n    \"B\": 2,\n    \"C\": {\"x\": [1, \"}\"]}\n  },\n  \"statusLine\": {\"type\": \"command\"}\n}\n"
        );
        assert_eq!(
            remove_members(text, "env", &names(&["C"])).unwrap(),
            "{\n  \"env\": {\n    \"A\": \"1\",\n    \"B\": 2\n  },\n  \"statusLine\": {\"type\": \"command\"}\n}\n"
        );
        assert_eq!(
            remove_members(text, "env", &names(&["A", "B", "C"])).unwrap(),
            "{\n  \"env\": {},\n  \"statusLine\": {\"type\": \"command\"}\n}\n"
        );
    }

    #[test]
    fn leaves_other_objects_and_unknown_names_alone() {
        let text = r#"{"hooks": {"A": "keep"}, "env": {"A": "go", "Z\u0041": "\"quoted\\"}}"#;
        let out = remove_members(text, "env", &names(&["A", "ZA", "missing"])).unwrap();
        assert_eq!(out, r#"{"hooks": {"A": "keep"}, "env": {}}"#);
        assert_eq!(remove_members("{\"x\": 1}", "env", &names(&["A"])).unwrap(), "{\"x\": 1}");
        assert!(remove_members("{\"env\": {", "env", &names(&["A"])).is_err());
    }
}
