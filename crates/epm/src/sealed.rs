//! Checkpoint files that know when they are damaged.
//!
//! Every checkpoint this crate writes (a simulation's, an ensemble's, a run directory's
//! `checkpoint.epm`) is its postcard encoding, which starts with the format number, followed
//! by the SHA-256 digest of everything before it: 32 bytes at the end of the file. A reader
//! checks the digest before it decodes anything, so a file with a flipped bit, a truncated
//! copy or one with bytes appended is refused by name, never restored. Outside the library the
//! same check is `head -c -32 FILE | sha256sum` against the file's last 32 bytes.
//!
//! Formats written before the digest existed are still read, without a check (there is none
//! to make); the next checkpoint of such a run carries a digest.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes of the digest at the end of a sealed file.
pub(crate) const DIGEST_BYTES: usize = 32;

/// `value`'s postcard encoding followed by its SHA-256 digest.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    let mut bytes = postcard::to_stdvec(value).map_err(|e| e.to_string())?;
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    Ok(bytes)
}

/// What [`open`] found: the format and the bytes to decode it from (the digest removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Opened<'a> {
    /// The file's format number.
    pub format: u32,
    /// The encoding, format number included, without the digest.
    pub payload: &'a [u8],
}

/// The checked contents of checkpoint bytes. `sealed`: the formats that carry a digest, the
/// last of them the one written now; formats in `unsealed` were written without one and are
/// returned as they are. `what` names the kind of file in messages (`a checkpoint`, `a run
/// checkpoint`).
pub(crate) fn open<'a>(
    bytes: &'a [u8],
    sealed: RangeInclusive<u32>,
    unsealed: RangeInclusive<u32>,
    what: &str,
) -> Result<Opened<'a>, String> {
    let current = *sealed.end();
    let reads = if unsealed.is_empty() {
        format!("{} to {current}", sealed.start())
    } else {
        format!("{} to {current}", unsealed.start())
    };
    if let Some(payload) = verified(bytes) {
        let format = format_of(payload).ok_or_else(|| format!("not {what}"))?;
        if !sealed.contains(&format) {
            return Err(format!("format {format} (this version reads {reads})"));
        }
        return Ok(Opened { format, payload });
    }
    let format = format_of(bytes)
        .ok_or_else(|| format!("not {what} ({} bytes, without a valid digest)", bytes.len()))?;
    if unsealed.contains(&format) {
        return Ok(Opened {
            format,
            payload: bytes,
        });
    }
    if sealed.contains(&format) {
        return Err(format!(
            "damaged or truncated: the SHA-256 digest of its first {} bytes is not the one it \
             ends with (resume from a copy, or start the run again)",
            bytes.len().saturating_sub(DIGEST_BYTES)
        ));
    }
    Err(format!("format {format} (this version reads {reads})"))
}

/// Decodes the whole of `payload`: bytes left over mean the file is not what it says.
pub(crate) fn decode<'a, T: Deserialize<'a>>(payload: &'a [u8], what: &str) -> Result<T, String> {
    let (value, rest) =
        postcard::take_from_bytes(payload).map_err(|e| format!("not {what}: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "not {what}: {} bytes after its end (damaged?)",
            rest.len()
        ));
    }
    Ok(value)
}

/// The bytes before the digest, when the digest matches them.
fn verified(bytes: &[u8]) -> Option<&[u8]> {
    let split = bytes.len().checked_sub(DIGEST_BYTES)?;
    let (payload, digest) = bytes.split_at(split);
    (Sha256::digest(payload).as_slice() == digest).then_some(payload)
}

/// The format number an encoding starts with (postcard writes a `u32` as a varint).
fn format_of(bytes: &[u8]) -> Option<u32> {
    postcard::take_from_bytes::<u32>(bytes).ok().map(|(f, _)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct File {
        format: u32,
        values: Vec<f32>,
    }

    fn file(format: u32) -> File {
        File {
            format,
            values: (0..1000).map(|i| i as f32 * 0.25).collect(),
        }
    }

    fn read(bytes: &[u8]) -> Result<File, String> {
        let opened = open(bytes, 3..=3, 1..=2, "a test file")?;
        decode(opened.payload, "a test file")
    }

    #[test]
    fn a_sealed_file_reads_back_and_ends_with_the_digest_of_the_rest() {
        let bytes = encode(&file(3)).unwrap();
        assert_eq!(read(&bytes).unwrap(), file(3));
        let (payload, digest) = bytes.split_at(bytes.len() - DIGEST_BYTES);
        assert_eq!(payload, postcard::to_stdvec(&file(3)).unwrap());
        assert_eq!(digest, Sha256::digest(payload).as_slice());
    }

    #[test]
    fn every_single_flipped_byte_or_truncation_is_refused() {
        let bytes = encode(&file(3)).unwrap();
        for at in (0..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x24;
            let err = read(&damaged).unwrap_err();
            assert!(
                err.contains("damaged") || err.contains("format") || err.contains("not a test"),
                "byte {at}: {err}"
            );
        }
        for len in [0, 1, 31, 32, 33, bytes.len() / 2, bytes.len() - 1] {
            assert!(read(&bytes[..len]).is_err(), "truncated to {len} bytes");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer).unwrap_err().contains("damaged"));
    }

    #[test]
    fn unsealed_formats_are_read_whole_and_others_refused_by_number() {
        let old = postcard::to_stdvec(&file(2)).unwrap();
        assert_eq!(read(&old).unwrap(), file(2));
        // A sealed file whose format byte reads as an old format still carries its digest.
        let mut relabelled = encode(&file(3)).unwrap();
        relabelled[0] = 2;
        assert!(read(&relabelled).unwrap_err().contains("after its end"));
        let future = encode(&file(4)).unwrap();
        assert_eq!(
            read(&future).unwrap_err(),
            "format 4 (this version reads 1 to 3)"
        );
        let unsealed_current = postcard::to_stdvec(&file(3)).unwrap();
        assert!(read(&unsealed_current).unwrap_err().contains("damaged"));
    }
}
