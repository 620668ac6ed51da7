//! Control characters made visible in every text format: a NUL, an escape
//! sequence or a carriage return from a reply must not reach a terminal or
//! a downstream parser raw. JSON needs nothing more (serde escapes every
//! control character).

use std::borrow::Cow;

/// `s` with every control character (C0, DEL, C1) written as `\0`, `\t`,
/// `\n`, `\r` or `\xNN` / `\u{NN}`; unchanged (and not copied) when it has
/// none.
pub fn control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_made_visible() {
        let cases = [
            ("plain", "plain"),
            ("a\0b", "a\\0b"),
            ("tab\there", "tab\\there"),
            ("cr\r\nlf", "cr\\r\\nlf"),
            ("esc\u{1b}[31m", "esc\\x1b[31m"),
            ("del\u{7f}", "del\\x7f"),
            ("c1\u{85}", "c1\\x85"),
            ("back\\slash é", "back\\slash é"),
        ];
        for (input, want) in cases {
            assert_eq!(control(input), want, "{input:?}");
        }
        assert!(matches!(control("x"), Cow::Borrowed(_)));
    }
}
