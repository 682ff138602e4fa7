//! Errors that point into a file: `path:line:column: message`, and the typed
//! readers that walk a spanned TOML tree and produce them.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A position in a file, 1-based, column counted in characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub at: Location,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Why what the user wrote cannot be used. Stays typed until it is printed, so a
/// located error keeps its `path:line:column` all the way to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Points into a file.
    At(Diagnostic),
    /// About a whole file or store (cannot read it, it is too large, …).
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::At(d) => d.fmt(f),
            ReadError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<Diagnostic> for ReadError {
    fn from(d: Diagnostic) -> Self {
        ReadError::At(d)
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub at: Location,
}

impl<T> Located<T> {
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic { at: self.at.clone(), message: message.into() }
    }
}

/// One parsed TOML source: its text and path, for turning byte spans into locations.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    /// Byte offset where each line starts: locating a span is a binary search, not a
    /// rescan of the text (every string read records its location).
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Source { path, text, line_starts }
    }

    pub fn locate(&self, span: Range<usize>) -> Location {
        let start = floor_char_boundary(self.text, span.start.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= start);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..start].chars().count() + 1;
        Location { path: self.path.to_path_buf(), line, column }
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { at: self.locate(span), message: message.into() }
    }

    /// Parses the whole text; a syntax error becomes a located diagnostic.
    pub fn parse(&self) -> Result<Spanned<DeTable<'a>>, Diagnostic> {
        DeTable::parse(self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            self.error(span, format!("invalid TOML: {}", first_line(e.message())))
        })
    }

    pub fn string(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<Located<String>, Diagnostic> {
        match value.get_ref() {
            DeValue::String(s) => Ok(Located { value: s.to_string(), at: self.locate(value.span()) }),
            other => {
                Err(self.error(value.span(), format!("`{key}` must be a string, found {}", type_name(other))))
            }
        }
    }

    pub fn boolean(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<bool, Diagnostic> {
        match value.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            other => Err(self
                .error(value.span(), format!("`{key}` must be true or false, found {}", type_name(other)))),
        }
    }

    pub fn table<'v>(
        &self,
        key: &str,
        value: &'v Spanned<DeValue<'a>>,
    ) -> Result<&'v DeTable<'a>, Diagnostic> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.error(
                value.span(),
                format!("`{key}` must be a table (`[{key}]`), found {}", type_name(other)),
            )),
        }
    }

    pub fn unknown_key(&self, key: &Spanned<impl AsRef<str>>, known: &[&str], context: &str) -> Diagnostic {
        let name = key.get_ref().as_ref();
        let mut message = format!("unknown key `{name}` {context}");
        match suggest(name, known.iter().copied()) {
            Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
            None => message.push_str(&format!("; expected one of: {}", known.join(", "))),
        }
        self.error(key.span(), message)
    }
}

pub fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The closest candidate to `input`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'c>(input: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let input_lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input_lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let src = Source::new(Path::new("f.toml"), text);
        let at = src.locate(text.find('"').unwrap()..text.len());
        assert_eq!((at.line, at.column), (2, 6));
        assert_eq!(src.locate(0..1).to_string(), "f.toml:1:1");
    }

    #[test]
    fn syntax_errors_are_located() {
        let src = Source::new(Path::new("p.toml"), "provider = \"glm\"\nmodel = \n");
        let e = src.parse().unwrap_err();
        assert_eq!(e.at.line, 2, "{e}");
        assert!(e.to_string().starts_with("p.toml:2:"), "{e}");
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let ids = ["kimi", "kimi-intl", "kimi-coding", "glm"];
        assert_eq!(suggest("kimi-code", ids), Some("kimi-coding"));
        assert_eq!(suggest("GLM", ids), Some("glm"));
        assert_eq!(suggest("zzzz", ids), None);
    }
}
