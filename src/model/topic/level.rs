//! Level names: one level of a topic path, inline when short.

/// A level name: held inline up to [`LevelName::INLINE_BYTES`] bytes (hash ids and most
/// levels), on the heap beyond. Reads as a `&str` (`Deref`). Saves a heap allocation (32 bytes
/// or more) per node of a big tree.
#[derive(Clone, PartialEq, Eq)]
pub enum LevelName {
    /// Short names: UTF-8 bytes and their length.
    Inline {
        /// Bytes used in `bytes`.
        len: u8,
        /// The name's bytes (valid UTF-8 up to `len`), zero-padded.
        bytes: [u8; LevelName::INLINE_BYTES],
    },
    /// Longer names.
    Heap(Box<str>),
}

impl LevelName {
    /// Longest name held inline (keeps the type at 24 bytes).
    pub const INLINE_BYTES: usize = 22;

    /// The name as text.
    pub fn as_str(&self) -> &str {
        match self {
            // Only ever built from a `&str` cut at its end, so this is valid UTF-8.
            LevelName::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            LevelName::Heap(name) => name,
        }
    }

    /// Heap bytes the name occupies (0 when inline), as the allocator counts them.
    pub fn heap_bytes(&self) -> usize {
        match self {
            LevelName::Inline { .. } => 0,
            LevelName::Heap(name) => crate::model::heap::heap_bytes(name.len()),
        }
    }
}

impl From<&str> for LevelName {
    fn from(name: &str) -> Self {
        if name.len() > Self::INLINE_BYTES {
            return LevelName::Heap(name.into());
        }
        let mut bytes = [0; Self::INLINE_BYTES];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        LevelName::Inline {
            // At most INLINE_BYTES (checked above), so it fits.
            len: name.len() as u8,
            bytes,
        }
    }
}

impl std::ops::Deref for LevelName {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for LevelName {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl std::fmt::Display for LevelName {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}
