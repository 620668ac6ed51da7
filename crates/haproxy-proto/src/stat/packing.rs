//! How one field is stored: 4 bytes ([`Packed`]) for a small number, a
//! span of its record or nothing; the rest in an overflow table
//! ([`Slot`]).

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

/// A [`Slot`] in 4 bytes (a large fleet's tables hold millions of fields,
/// about five times the reply's own bytes at 8 bytes each): the low 2
/// bits say what the rest is.
///
/// - `00`: empty;
/// - `01`: an integer in the upper 30 bits (sign-extended);
/// - `10`: a span of the input within its record: the offset from the
///   record's start in the upper 16 bits, the length in bits 2–15;
/// - `11`: an index (upper 30 bits) into the overflow table, for the rest
///   (larger integers, long or far spans, unescaped text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Packed(pub(super) u32);

pub(super) const PACKED_INT_MIN: i64 = -(1 << 29);
pub(super) const PACKED_INT_MAX: i64 = (1 << 29) - 1;
const SPAN_LEN_MAX: u32 = (1 << 14) - 1;
const SPAN_OFFSET_MAX: u32 = (1 << 16) - 1;
const OVERFLOW_MAX: u32 = (1 << 30) - 1;
/// The largest input the packing can index: see [`Packed::pack`].
pub(super) const INPUT_MAX: usize = 1 << 31;

impl Packed {
    /// A one-digit number, packed (the parser's fastest path).
    #[inline(always)]
    pub(super) fn digit(d: u8) -> Packed {
        Packed((u32::from(d) << 2) | 0b01)
    }

    /// Packs `slot` of the record starting at byte `base` of the input.
    pub(super) fn pack(slot: Slot, base: u32, overflow: &mut Vec<Slot>) -> Packed {
        match slot {
            Slot::Empty => Packed(0),
            // `as` reinterprets the range-checked value's bits.
            Slot::Int(n) if (PACKED_INT_MIN..=PACKED_INT_MAX).contains(&n) => {
                Packed((((n as i32) << 2) as u32) | 0b01)
            }
            Slot::Span(s, e)
                if s >= base && e >= s && e - s <= SPAN_LEN_MAX && s - base <= SPAN_OFFSET_MAX =>
            {
                Packed(((s - base) << 16) | ((e - s) << 2) | 0b10)
            }
            other => {
                // An overflowing field takes at least two bytes of the
                // input (text or digits, and a separator) and the parser
                // takes under 2 GiB: the index fits in 30 bits.
                let i = u32::try_from(overflow.len()).unwrap_or(OVERFLOW_MAX);
                overflow.push(other);
                Packed((i.min(OVERFLOW_MAX) << 2) | 0b11)
            }
        }
    }

    /// The integer, when the field is empty (`Some(None)`) or a small
    /// number; `None` for anything else.
    #[inline(always)]
    pub(super) fn small_int(self) -> Option<Option<i64>> {
        match self.0 & 0b11 {
            0b00 => Some(None),
            // Arithmetic shift of the reinterpreted bits restores the sign.
            0b01 => Some(Some(i64::from((self.0 as i32) >> 2))),
            _ => None,
        }
    }

    /// The slot, for a field of the record starting at byte `base`.
    #[inline]
    pub(super) fn unpack(self, base: u32, overflow: &[Slot]) -> Slot {
        match self.0 & 0b11 {
            0b00 => Slot::Empty,
            0b01 => Slot::Int(i64::from((self.0 as i32) >> 2)),
            0b10 => {
                let start = base.saturating_add(self.0 >> 16);
                let len = (self.0 >> 2) & SPAN_LEN_MAX;
                Slot::Span(start, start.saturating_add(len))
            }
            _ => usize::try_from(self.0 >> 2)
                .ok()
                .and_then(|i| overflow.get(i).copied())
                .unwrap_or(Slot::Empty),
        }
    }
}
