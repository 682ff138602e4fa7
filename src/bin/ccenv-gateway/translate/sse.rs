//! Server-sent events, incrementally: bytes arrive in arbitrary pieces, events leave as
//! soon as their blank line is seen. Only `event:` and `data:` matter here.

/// An event's name (`None` when the stream gave none) and its joined data lines.
#[derive(Debug, PartialEq)]
pub(crate) struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// A line longer than this (a runaway upstream) is cut off rather than held in memory.
const MAX_PENDING: usize = 16 << 20;

#[derive(Default)]
pub(crate) struct Parser {
    pending: Vec<u8>,
    name: Option<String>,
    data: Option<String>,
    /// The current event outgrew the cap: its lines are skipped until it ends.
    dropped: bool,
}

impl Parser {
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line[..nl]);
            self.line(line.strip_suffix('\r').unwrap_or(&line), &mut out);
        }
        if self.pending.len() > MAX_PENDING {
            self.pending.clear();
        }
        out
    }

    /// Whatever is left when the stream ends without a final blank line.
    pub(crate) fn finish(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.line(String::from_utf8_lossy(&rest).trim_end_matches('\r'), &mut out);
        }
        self.line("", &mut out);
        out
    }

    fn line(&mut self, line: &str, out: &mut Vec<Event>) {
        if line.is_empty() {
            if let Some(data) = self.data.take().filter(|_| !self.dropped) {
                out.push(Event { name: self.name.take(), data });
            }
            self.name = None;
            self.dropped = false;
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.name = Some(value.to_string()),
            "data" => match &mut self.data {
                // Data lines without the blank line that ends an event would be held
                // forever: past the same cap the event is dropped, as a long line is.
                _ if self.dropped => {}
                Some(d) if d.len() + value.len() >= MAX_PENDING => {
                    self.data = Some(String::new());
                    self.dropped = true;
                }
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            _ => {}
        }
    }
}

/// One Anthropic event on the wire.
pub(crate) fn frame(name: &str, data: &serde_json::Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_still_arrive_whole() {
        let wire = b": comment\r\nevent: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\n";
        for cut in 0..wire.len() {
            let mut p = Parser::default();
            let mut got = p.push(&wire[..cut]);
            got.extend(p.push(&wire[cut..]));
            got.extend(p.finish());
            assert_eq!(
                got,
                vec![
                    Event { name: Some("a".into()), data: "{\"x\":\n1}".into() },
                    Event { name: None, data: "[DONE]".into() }
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_event_that_never_ends_is_not_held_without_bound() {
        let mut p = Parser::default();
        let line = format!("data: {}\n", "x".repeat(1 << 16));
        for _ in 0..(MAX_PENDING >> 16) + 8 {
            assert!(p.push(line.as_bytes()).is_empty());
        }
        assert!(p.data.as_ref().map_or(0, String::len) < MAX_PENDING, "data grew past the cap");
        assert!(p.push(b"\n").is_empty(), "the oversized event is dropped whole");
        assert_eq!(p.push(b"data: ok\n\n"), vec![Event { name: None, data: "ok".into() }]);
    }

    #[test]
    fn a_stream_without_a_final_blank_line_is_not_lost() {
        let mut p = Parser::default();
        assert!(p.push(b"data: {}").is_empty());
        assert_eq!(p.finish(), vec![Event { name: None, data: "{}".into() }]);
    }
}
