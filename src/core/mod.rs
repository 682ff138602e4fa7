//! The pure core: no file, no environment, no clock. `resolve` turns a project's
//! settings and the provider catalog into the variables it wants; `envdiff` computes
//! the operations from the environment now to that, and back; `outcome` is what
//! applies in a directory and the one place it is put into words.

pub(crate) mod chain;
pub(crate) mod envdiff;
pub(crate) mod outcome;
pub mod resolve;

/// Lower-case hex of `bytes` (content ids, digests, the Clink wire format).
pub(crate) fn hex(bytes: &[u8]) -> String {
    // A table, not `format!` per byte: the hook hashes three times per change.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }
}
