//! How one field is stored: 8 bytes ([`Packed`]) for a number, a span of
//! the reply or nothing; the rest in an overflow table ([`Slot`]).

/// One stored field: 16 bytes, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Empty,
    Int(i64),
    UInt(u64),
    /// A byte range of the input.
    Span(u32, u32),
    /// An index into `StatTable::unescaped`.
    Owned(u32),
}

/// A [`Slot`] in 8 bytes (a large fleet's tables hold millions of
/// fields): the low 2 bits say what the rest is.
///
/// - `00`: empty;
/// - `01`: an integer in the upper 62 bits (sign-extended);
/// - `10`: a span of the input: start in the upper 32 bits, length in
///   bits 2–31;
/// - `11`: an index (upper 62 bits) into the overflow table, for the rest
///   (huge integers, long spans, unescaped text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Packed(pub(super) u64);

pub(super) const PACKED_INT_MIN: i64 = -(1 << 61);
pub(super) const PACKED_INT_MAX: i64 = (1 << 61) - 1;
pub(super) const PACKED_LEN_MAX: u32 = (1 << 30) - 1;

impl Packed {
    pub(super) fn pack(slot: Slot, overflow: &mut Vec<Slot>) -> Packed {
        match slot {
            Slot::Empty => Packed(0),
            // `as` reinterprets the range-checked value's bits.
            Slot::Int(n) if (PACKED_INT_MIN..=PACKED_INT_MAX).contains(&n) => {
                Packed(((n << 2) as u64) | 0b01)
            }
            Slot::Span(s, e) if e >= s && e - s <= PACKED_LEN_MAX => {
                Packed((u64::from(s) << 32) | (u64::from(e - s) << 2) | 0b10)
            }
            other => {
                overflow.push(other);
                Packed((((overflow.len() - 1) as u64) << 2) | 0b11)
            }
        }
    }

    pub(super) fn unpack(self, overflow: &[Slot]) -> Slot {
        match self.0 & 0b11 {
            0b00 => Slot::Empty,
            // Arithmetic shift of the reinterpreted bits restores the sign.
            0b01 => Slot::Int((self.0 as i64) >> 2),
            0b10 => {
                let start = (self.0 >> 32) as u32;
                let len = ((self.0 >> 2) as u32) & PACKED_LEN_MAX;
                Slot::Span(start, start.saturating_add(len))
            }
            _ => usize::try_from(self.0 >> 2)
                .ok()
                .and_then(|i| overflow.get(i).copied())
                .unwrap_or(Slot::Empty),
        }
    }
}
