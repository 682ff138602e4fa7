//! `count_tokens` for upstreams that have no such endpoint: an estimate, because Claude
//! Code only uses it to decide when to compact, and an error there would stop it.

use serde_json::Value;

/// About four bytes of JSON text per token for English and code; counting the request's
/// text fields (not its JSON syntax) keeps images from dominating: each counts a flat
/// amount, as Anthropic bills images by size, not by base64 length.
pub(crate) fn estimate(req: &Value) -> u64 {
    let mut bytes = 0u64;
    let mut images = 0u64;
    walk(req.get("system").unwrap_or(&Value::Null), &mut bytes, &mut images);
    walk(req.get("messages").unwrap_or(&Value::Null), &mut bytes, &mut images);
    walk(req.get("tools").unwrap_or(&Value::Null), &mut bytes, &mut images);
    bytes.div_ceil(4) + images * 1600
}

fn walk(v: &Value, bytes: &mut u64, images: &mut u64) {
    match v {
        Value::String(s) => *bytes += s.len() as u64,
        Value::Array(a) => a.iter().for_each(|x| walk(x, bytes, images)),
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("image") {
                *images += 1;
                return;
            }
            for (k, x) in o {
                *bytes += k.len() as u64;
                walk(x, bytes, images);
            }
        }
        _ => *bytes += 2,
    }
}
