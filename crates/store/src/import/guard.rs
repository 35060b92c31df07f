//! Limits checked on an xlsx file before calamine opens it (issue 10, must-fix 1).
//!
//! calamine reads the shared-string table whole when it opens a workbook, and quick-xml buffers
//! each XML event whole (a text node, a tag). A 1.5 MB file can inflate to a 1.5 GB string, or to
//! 20 million tiny strings. So before calamine sees the file, this pass inflates every XML part
//! once, as a stream, through a reader that refuses:
//! - a central directory of more than [`MAX_PARTS`] entries or [`MAX_DIRECTORY`] bytes;
//! - more inflated XML in all than [`max_inflated`] (a multiple of the file's size);
//! - one XML event (tag or text) longer than [`MAX_EVENT`];
//! - a shared-string table over [`MAX_SHARED_BYTES`], over [`MAX_SHARED_STRINGS`] strings
//!   (declared or counted), or with one string over [`MAX_STRING_BYTES`] of XML.
//!
//! The pass itself holds one event and a read buffer: its memory does not depend on the file.
//! What calamine then keeps is bounded by the shared-string limits (≈ 180 MB at worst, see
//! `docs/security.md`); the rows are bounded by the reader in [`super::read`].

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use quick_xml::events::Event;

use crate::error::{Result, StoreError};

/// Entries in the zip's central directory (a workbook has a few dozen).
pub const MAX_PARTS: u64 = 10_000;
/// Bytes of the zip's central directory.
pub const MAX_DIRECTORY: u64 = 4 * 1024 * 1024;
/// One XML event: a tag with its attributes, or a text node.
pub const MAX_EVENT: usize = 1024 * 1024;
/// The shared-string part, inflated.
pub const MAX_SHARED_BYTES: u64 = 96 * 1024 * 1024;
/// Strings in the shared-string table.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;
/// One shared string's XML (a cell holds at most 32,767 characters; escaped, up to 6 bytes each).
pub const MAX_STRING_BYTES: u64 = 6 * 32_767 + 4096;

/// All XML parts together may inflate to this much: 64 MB plus 50 times the file (ordinary
/// workbooks inflate 5 to 15 times).
pub fn max_inflated(file_len: u64) -> u64 {
    64 * 1024 * 1024 + file_len.saturating_mul(50)
}

fn refuse(msg: impl Into<String>) -> StoreError {
    StoreError::rule("import_file_refused", msg.into())
}

const BOMB: &str =
    "Tệp Excel bất thường: khi giải nén, nội dung lớn hơn nhiều so với kích thước tệp";

/// Checks the workbook in `input` (positioned anywhere); leaves the position unspecified.
pub fn check_xlsx<R: Read + Seek>(mut input: R, file_len: u64) -> Result<()> {
    check_directory(&mut input, file_len)?;
    input
        .seek(SeekFrom::Start(0))
        .map_err(|_| refuse("Không đọc được tệp Excel."))?;
    let mut zip = zip::ZipArchive::new(input)
        .map_err(|_| refuse("Không đọc được tệp Excel: tệp hỏng hoặc không phải .xlsx."))?;
    let mut budget = max_inflated(file_len);
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|_| refuse("Không đọc được tệp Excel: tệp hỏng hoặc không phải .xlsx."))?;
        let name = part
            .name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            // calamine reads only XML parts; pictures and the like are never inflated.
            continue;
        }
        let shared = name.ends_with("sharedstrings.xml");
        let limit = if shared {
            budget.min(MAX_SHARED_BYTES)
        } else {
            budget
        };
        let used = check_part(&mut part, limit, shared)?;
        budget = budget.saturating_sub(used);
    }
    Ok(())
}

/// Finds the end-of-central-directory records in the file's tail (all candidates, so that a
/// planted decoy does not hide the real one) and refuses oversized directories.
fn check_directory<R: Read + Seek>(input: &mut R, file_len: u64) -> Result<()> {
    let tail_len = file_len.min(22 + 65_535);
    let start = file_len - tail_len;
    let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
    input
        .seek(SeekFrom::Start(start))
        .and_then(|_| input.read_exact(&mut tail))
        .map_err(|_| refuse("Không đọc được tệp Excel."))?;
    let too_big = || {
        refuse(format!(
            "Tệp Excel có quá nhiều thành phần (tối đa {MAX_PARTS}): tệp hỏng hoặc bất thường."
        ))
    };
    let le16 = |b: &[u8]| u64::from(u16::from_le_bytes([b[0], b[1]]));
    let le32 = |b: &[u8]| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let le64 = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        u64::from_le_bytes(a)
    };
    for pos in (0..tail.len().saturating_sub(21)).rev() {
        if &tail[pos..pos + 4] != b"PK\x05\x06" {
            continue;
        }
        let rec = &tail[pos..];
        let (mut entries, mut size) = (le16(&rec[10..]), le32(&rec[12..]));
        if entries == 0xFFFF || size == 0xFFFF_FFFF {
            // Zip64: the locator sits just before, and points at the zip64 record.
            if pos >= 20 && &tail[pos - 20..pos - 16] == b"PK\x06\x07" {
                let at = le64(&tail[pos - 12..]);
                let mut rec64 = [0u8; 56];
                if input
                    .seek(SeekFrom::Start(at))
                    .and_then(|_| input.read_exact(&mut rec64))
                    .is_ok()
                    && &rec64[..4] == b"PK\x06\x06"
                {
                    entries = le64(&rec64[32..]);
                    size = le64(&rec64[40..]);
                }
            }
        }
        if entries > MAX_PARTS || size > MAX_DIRECTORY {
            return Err(too_big());
        }
    }
    Ok(())
}

/// Which limit a [`Bounded`] reader met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tripped {
    Event,
    Total,
}

/// A reader that fails once the current event or the whole part grows past its limit.
struct Bounded<R> {
    inner: R,
    since_event: usize,
    total: u64,
    limit: u64,
    tripped: Option<Tripped>,
}

impl<R: BufRead> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(buf.len());
            buf[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_event > MAX_EVENT {
            self.tripped = Some(Tripped::Event);
            return Err(io::Error::other("xml event too long"));
        }
        if self.total > self.limit {
            self.tripped = Some(Tripped::Total);
            return Err(io::Error::other("part too large"));
        }
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.since_event += n;
        self.total += n as u64;
        self.inner.consume(n);
    }
}

/// Reads one XML part through; answers how many bytes it inflated to.
fn check_part<R: Read>(part: R, limit: u64, shared: bool) -> Result<u64> {
    let bounded = Bounded {
        inner: BufReader::with_capacity(64 * 1024, part),
        since_event: 0,
        total: 0,
        limit,
        tripped: None,
    };
    let mut xml = quick_xml::Reader::from_reader(bounded);
    {
        // As lenient as calamine's own reader, so that a file it reads is not refused here.
        let c = xml.config_mut();
        c.check_end_names = false;
        c.check_comments = false;
        c.trim_text(false);
    }
    let mut buf = Vec::with_capacity(4096);
    let mut strings = 0u64;
    let mut string_start: Option<u64> = None;
    loop {
        buf.clear();
        xml.get_mut().since_event = 0;
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(_) => {
                return Err(match xml.get_ref().tripped {
                    Some(Tripped::Event) => refuse(format!(
                        "{BOMB} (một ô hoặc thẻ dài hơn {} MB).",
                        MAX_EVENT / (1024 * 1024)
                    )),
                    Some(Tripped::Total) if shared => refuse(format!(
                        "Bảng chuỗi của tệp Excel quá lớn (tối đa {} MB sau khi giải nén). Hãy chia tệp thành nhiều tệp nhỏ hơn.",
                        MAX_SHARED_BYTES / (1024 * 1024)
                    )),
                    Some(Tripped::Total) => refuse(format!("{BOMB}.")),
                    None => refuse("Không đọc được tệp Excel: nội dung XML hỏng."),
                });
            }
        };
        match event {
            Event::Eof => return Ok(xml.get_ref().total),
            Event::Start(e) | Event::Empty(e) if shared => match e.local_name().as_ref() {
                "sst" => {
                    // calamine reserves room for `uniqueCount` strings up front.
                    for attr in e.attributes().flatten() {
                        if attr.key.local_name().as_ref() == "uniqueCount" {
                            let declared = attr.value.trim().parse::<u64>().ok();
                            if declared.is_some_and(|n| n > MAX_SHARED_STRINGS) {
                                return Err(too_many_strings());
                            }
                        }
                    }
                }
                "si" => {
                    strings += 1;
                    if strings > MAX_SHARED_STRINGS {
                        return Err(too_many_strings());
                    }
                    string_start = Some(xml.buffer_position());
                }
                _ => {}
            },
            Event::End(e) if shared && e.local_name().as_ref() == "si" => {
                if let Some(start) = string_start.take() {
                    if xml.buffer_position().saturating_sub(start) > MAX_STRING_BYTES {
                        return Err(refuse(
                            "Tệp Excel có ô chứa hơn 32.767 ký tự (giới hạn của Excel): tệp bất thường.",
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

fn too_many_strings() -> StoreError {
    refuse(format!(
        "Tệp Excel có quá nhiều chuỗi khác nhau (tối đa {} triệu). Hãy chia tệp thành nhiều tệp nhỏ hơn.",
        MAX_SHARED_STRINGS / 1_000_000
    ))
}
