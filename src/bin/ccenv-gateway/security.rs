//! Who may talk to the gateway: a request must name this server in `Host` (a web page
//! that rebinds a DNS name to 127.0.0.1 cannot) and carry the per-user token, compared
//! in constant time. The health check works the other way round: it proves to the
//! caller that the server on the port holds the token, without the caller sending it.

use axum::http::HeaderMap;
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

pub(crate) fn host_ok(headers: &HeaderMap, port: u16) -> bool {
    let Some(host) = headers.get("host").and_then(|h| h.to_str().ok()) else {
        return false;
    };
    host == format!("127.0.0.1:{port}") || host.eq_ignore_ascii_case(&format!("localhost:{port}"))
}

/// Claude Code sends the token as `Authorization: Bearer`; SDKs given an API key send
/// `x-api-key`. Either may also carry an unrelated key, so either matching is enough.
pub(crate) fn token_ok(headers: &HeaderMap, token: &str) -> bool {
    let same = |v: &[u8]| bool::from(v.ct_eq(token.as_bytes()));
    let bearer =
        headers.get("authorization").and_then(|v| v.as_bytes().strip_prefix(b"Bearer ")).is_some_and(same);
    let api_key = headers.get("x-api-key").is_some_and(|v| same(v.as_bytes()));
    bearer | api_key
}

/// HMAC-SHA256(token, nonce) as hex: the health check's answer.
pub(crate) fn proof(token: &str, nonce: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(b"ccenv-gateway-health\0");
    mac.update(nonce.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn proof_ok(token: &str, nonce: &str, answer: &str) -> bool {
    bool::from(proof(token, nonce).as_bytes().ct_eq(answer.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn host_must_name_this_server() {
        assert!(host_ok(&headers(&[("host", "127.0.0.1:4000")]), 4000));
        assert!(host_ok(&headers(&[("host", "LocalHost:4000")]), 4000));
        for bad in ["127.0.0.1:4001", "evil.example:4000", "127.0.0.1", "localhost:4000.evil", "[::1]:4000"] {
            assert!(!host_ok(&headers(&[("host", bad)]), 4000), "{bad}");
        }
        assert!(!host_ok(&HeaderMap::new(), 4000));
    }

    #[test]
    fn either_header_may_carry_the_token() {
        let t = "ab".repeat(32);
        assert!(token_ok(&headers(&[("authorization", &format!("Bearer {t}"))]), &t));
        assert!(token_ok(&headers(&[("x-api-key", &t), ("authorization", "Bearer other")]), &t));
        assert!(!token_ok(&headers(&[("authorization", &t)]), &t), "scheme required");
        assert!(!token_ok(&headers(&[("x-api-key", &t[1..])]), &t));
        assert!(!token_ok(&HeaderMap::new(), &t));
    }

    #[test]
    fn the_health_proof_depends_on_token_and_nonce() {
        let p = proof("k1", "n1");
        assert!(proof_ok("k1", "n1", &p));
        assert!(!proof_ok("k2", "n1", &p) && !proof_ok("k1", "n2", &p));
    }
}
