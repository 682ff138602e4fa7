//! Anthropic Messages ⇄ OpenAI Chat Completions. Everything here is pure (JSON and
//! bytes in, JSON and bytes out) so it is tested without a network.

pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod sse;
pub(crate) mod stream;
pub(crate) mod tokens;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
