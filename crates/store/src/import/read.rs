//! Reading spreadsheets row by row (issue 5): the first sheet of an xlsx file, or a csv file in
//! UTF-8 (with or without BOM) or Windows-1258, comma or semicolon. The kind is told by the
//! content, not the name. Rows stream from the file: memory does not grow with the file.
//!
//! Memory stays bounded whatever the file holds (issue 10): an xlsx file passes [`super::guard`]
//! before calamine opens it (its shared-string table, the one part held whole, is capped); a csv
//! file is read field by field with at most [`MAX_COLUMNS`] fields of at most
//! [`MAX_FIELD_BYTES`]; chunks are cut by rows, cells and bytes; a sheet read whole keeps at most
//! [`MAX_SHEET_CELLS`] cells and [`MAX_SHEET_TEXT`] bytes of text; and at most [`READS_AT_ONCE`]
//! files are read at the same time.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::PathBuf;
use std::sync::Arc;

use calamine::{DataRef, Reader};
use domain::org::import::Cell;
use tokio::sync::mpsc;

use crate::error::{Result, StoreError};

/// Largest file accepted through the web (bytes).
pub const MAX_FILE: usize = 60 * 1024 * 1024;

/// Columns read at most: a file with a value further right is refused (a sheet whose used
/// range is claimed to reach column XFD would otherwise cost memory for every empty cell).
const MAX_COLUMNS: u32 = 200;
/// Rows read at most (Excel's own limit; csv files have none).
const MAX_ROWS: u32 = 1_048_576;
/// Rows handed over at a time by [`RowStream`].
pub const CHUNK_ROWS: usize = 2_000;
/// Cells handed over at a time by [`RowStream`] (a chunk of wide rows is cut earlier).
const CHUNK_CELLS: usize = 100_000;
/// Bytes of text handed over at a time by [`RowStream`].
const CHUNK_TEXT: usize = 8 * 1024 * 1024;
/// Characters in one cell (Excel's own limit).
pub const MAX_CELL_CHARS: usize = 32_767;
/// Bytes of one csv field (the longest cell in UTF-8, or quoted).
pub const MAX_FIELD_BYTES: usize = MAX_CELL_CHARS * 4;
/// Cells kept by [`read_sheet`], which holds the whole sheet.
pub const MAX_SHEET_CELLS: usize = 1_000_000;
/// Bytes of text kept by [`read_sheet`].
pub const MAX_SHEET_TEXT: usize = 64 * 1024 * 1024;
/// Files read at the same time (each holds its own buffers; the rest wait their turn).
pub const READS_AT_ONCE: usize = 2;

/// The permits of [`READS_AT_ONCE`].
fn reads() -> &'static tokio::sync::Semaphore {
    static READS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    READS.get_or_init(|| tokio::sync::Semaphore::new(READS_AT_ONCE))
}

/// Waits for a turn to read a file.
async fn read_permit() -> Result<tokio::sync::SemaphorePermit<'static>> {
    reads()
        .acquire()
        .await
        .map_err(|_| StoreError::Internal("file reader closed".into()))
}

/// Bytes of text a row holds.
fn text_len(cells: &[Cell]) -> usize {
    cells
        .iter()
        .map(|c| match c {
            Cell::Text(t) | Cell::Error(t) => t.len(),
            _ => 0,
        })
        .sum()
}

/// A row as the spreadsheet numbers it (1-based), with its cells.
pub type Row = (usize, Vec<Cell>);

/// A sheet read whole: its headings and its non-empty rows (small files: organizations,
/// attendance sheets).
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headings: Vec<String>,
    pub rows: Vec<Row>,
}

/// Where a file is read from: bytes already in memory (an upload) or a file on disk (the CLI).
#[derive(Debug, Clone)]
pub enum Source {
    Bytes(Arc<[u8]>),
    File(PathBuf),
}

impl Source {
    pub fn bytes(b: &[u8]) -> Self {
        Source::Bytes(Arc::from(b))
    }

    fn len(&self) -> Result<u64> {
        match self {
            Source::Bytes(b) => Ok(b.len() as u64),
            Source::File(p) => std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| refuse(format!("Không mở được tệp {}: {e}", p.display()))),
        }
    }

    fn open(&self) -> Result<Input> {
        match self {
            Source::Bytes(b) => Ok(Input::Bytes(Cursor::new(b.clone()))),
            Source::File(p) => File::open(p)
                .map(|f| Input::File(BufReader::with_capacity(256 * 1024, f)))
                .map_err(|e| refuse(format!("Không mở được tệp {}: {e}", p.display()))),
        }
    }
}

/// An opened [`Source`]: readable, seekable, buffered.
enum Input {
    Bytes(Cursor<Arc<[u8]>>),
    File(BufReader<File>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Bytes(c) => c.read(buf),
            Input::File(f) => f.read(buf),
        }
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Input::Bytes(c) => c.fill_buf(),
            Input::File(f) => f.fill_buf(),
        }
    }
    fn consume(&mut self, n: usize) {
        match self {
            Input::Bytes(c) => c.consume(n),
            Input::File(f) => f.consume(n),
        }
    }
}

impl Seek for Input {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            Input::Bytes(c) => c.seek(pos),
            Input::File(f) => f.seek(pos),
        }
    }
}

fn refuse(msg: impl Into<String>) -> StoreError {
    StoreError::rule("import_file_refused", msg.into())
}

fn io_refuse(e: std::io::Error) -> StoreError {
    refuse(format!("Không đọc được tệp: {e}"))
}

/// What the reader says about a row: `false` stops reading.
type Sink<'a> = dyn FnMut(usize, Vec<Cell>, f64) -> bool + 'a;

/// Calls `sink` with every non-empty row in order (the first one is the headings), with how far
/// through the file the reader is (0 to 1).
fn each_row(file_name: &str, src: &Source, max: u64, sink: &mut Sink<'_>) -> Result<()> {
    let len = src.len()?;
    if len > max {
        return Err(refuse(format!(
            "Tệp quá lớn ({} MB); tối đa {} MB.",
            len / 1_048_576,
            max / 1_048_576
        )));
    }
    if len == 0 {
        return Err(refuse("Tệp rỗng."));
    }
    let mut input = src.open()?;
    let zip = input
        .fill_buf()
        .map_err(io_refuse)?
        .starts_with(b"PK\x03\x04");
    let mut non_empty = |n: usize, cells: Vec<Cell>, done: f64| {
        if cells.iter().all(Cell::is_empty) {
            true
        } else {
            sink(n, cells, done)
        }
    };
    if zip {
        super::guard::check_xlsx(src.open()?, len)?;
        return read_xlsx(input, &mut non_empty);
    }
    let lower = file_name.to_lowercase();
    let scan = scan_text(src.open()?)?;
    if lower.ends_with(".xlsx") || lower.ends_with(".xls") || scan.has_nul {
        return Err(refuse("Tệp không phải bảng tính Excel (.xlsx) hay CSV hợp lệ. Hãy mở tệp bằng Excel và lưu lại dạng .xlsx."));
    }
    read_csv(input, scan, len, &mut non_empty)
}

/// Reads the first sheet cell by cell: only the cells present in the file are kept, however far
/// apart they are, and a row is handed on as soon as the next one starts.
fn read_xlsx(input: Input, sink: &mut Sink<'_>) -> Result<()> {
    let broken = || refuse("Không đọc được tệp Excel: tệp hỏng hoặc không phải .xlsx.");
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(input).map_err(|_| broken())?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| refuse("Tệp Excel không có trang tính nào."))?;
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|_| refuse("Không đọc được trang tính đầu tiên của tệp Excel."))?;
    // How many rows the sheet says it uses, for the progress.
    let declared = f64::from(cells.dimensions().end.0.max(1));
    let mut current: Option<Row> = None;
    while let Some(cell) = cells.next_cell().map_err(|_| broken())? {
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                Cell::Text(s.clone())
            }
            DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::Bool(b) => Cell::Bool(*b),
            DataRef::DateTime(dt) => Cell::Date(dt.as_f64()),
            DataRef::Error(e) => Cell::Error(format!("{e:?}")),
        };
        let (r, c) = cell.get_position();
        if let Cell::Text(t) = &value {
            if t.len() > MAX_CELL_CHARS && t.chars().count() > MAX_CELL_CHARS {
                return Err(too_long(r as usize + 1, c as usize + 1));
            }
        }
        if c >= MAX_COLUMNS || r >= MAX_ROWS {
            return Err(refuse(format!(
                "Tệp có dữ liệu ở ô quá xa (dòng {}, cột {}): tối đa {MAX_COLUMNS} cột và {MAX_ROWS} dòng.",
                u64::from(r) + 1,
                u64::from(c) + 1
            )));
        }
        let number = r as usize + 1;
        match &mut current {
            Some((n, _)) if *n > number => {
                // Excel and LibreOffice write rows in order; a file that does not is refused
                // rather than held whole in memory to be sorted.
                return Err(refuse(format!(
                    "Tệp Excel ghi dòng {number} sau dòng {n}: hãy mở tệp bằng Excel hoặc LibreOffice và lưu lại."
                )));
            }
            Some((n, _)) if *n == number => {}
            _ => {
                if let Some((n, row)) = current.take() {
                    if !sink(n, row, n as f64 / declared) {
                        return Ok(());
                    }
                }
                current = Some((number, Vec::new()));
            }
        }
        if let Some((_, row)) = &mut current {
            let c = c as usize;
            if row.len() <= c {
                row.resize(c + 1, Cell::Empty);
            }
            row[c] = value;
        }
    }
    if let Some((n, row)) = current {
        sink(n, row, 1.0);
    }
    Ok(())
}

/// What a first pass over a text file finds.
#[derive(Debug, Clone, Copy)]
struct TextScan {
    utf8: bool,
    has_nul: bool,
    delimiter: u8,
}

/// Reads the file once, a block at a time: is it UTF-8 all through (otherwise it is read as
/// Windows-1258), does it hold NUL bytes (a binary file), and which delimiter its first line uses.
fn scan_text(mut input: Input) -> Result<TextScan> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut carry = 0usize; // bytes of an unfinished UTF-8 sequence kept from the last block
    let (mut utf8, mut has_nul) = (true, false);
    let mut first_line: Option<Vec<u8>> = None;
    let mut line = Vec::new();
    loop {
        let n = input.read(&mut buf[carry..]).map_err(io_refuse)?;
        if n == 0 {
            if carry > 0 {
                utf8 = false;
            }
            break;
        }
        let block = &buf[carry..carry + n];
        if block.contains(&0) {
            has_nul = true;
            break;
        }
        if first_line.is_none() {
            for &b in block {
                if b == b'\n' {
                    if !line.iter().all(u8::is_ascii_whitespace) {
                        first_line = Some(std::mem::take(&mut line));
                        break;
                    }
                    line.clear();
                } else {
                    line.push(b);
                }
            }
        }
        let end = carry + n;
        if utf8 {
            match std::str::from_utf8(&buf[..end]) {
                Ok(_) => {}
                Err(e) if e.error_len().is_none() => {
                    // A sequence cut by the block's end: keep its bytes for the next block.
                    let valid = e.valid_up_to();
                    buf.copy_within(valid..end, 0);
                    carry = end - valid;
                    continue;
                }
                Err(_) => utf8 = false,
            }
        }
        carry = 0;
    }
    let first = first_line.unwrap_or(line);
    let delimiter = if first.iter().filter(|b| **b == b';').count()
        > first.iter().filter(|b| **b == b',').count()
    {
        b';'
    } else {
        b','
    };
    Ok(TextScan {
        utf8,
        has_nul,
        delimiter,
    })
}

/// Reads the csv file field by field (csv-core): a record of more than [`MAX_COLUMNS`] fields or
/// a field of more than [`MAX_FIELD_BYTES`] is refused as soon as it is met, so a line of 60
/// million commas costs nothing. Rows are numbered as a spreadsheet numbers them: blank lines
/// count, a line end inside quotes does not, CRLF is one line end.
fn read_csv(mut input: Input, scan: TextScan, len: u64, sink: &mut Sink<'_>) -> Result<()> {
    if input
        .fill_buf()
        .map_err(io_refuse)?
        .starts_with(b"\xEF\xBB\xBF")
    {
        input.consume(3);
    }
    let mut rdr = csv_core::ReaderBuilder::new()
        .delimiter(scan.delimiter)
        .build();
    let mut field = vec![0u8; MAX_FIELD_BYTES];
    let mut filled = 0usize;
    let mut cells: Vec<Cell> = Vec::new();
    // Line ends read, line ends inside quoted fields, bytes read, and the last byte read.
    let (mut newlines, mut quoted, mut consumed) = (0u64, 0u64, 0u64);
    let mut last: Option<u8> = None;
    let count_nl = |b: &[u8]| b.iter().filter(|c| **c == b'\n').count() as u64;
    loop {
        let buf = input.fill_buf().map_err(io_refuse)?;
        let at_end = buf.is_empty();
        let (res, nin, nout) = rdr.read_field(buf, &mut field[filled..]);
        newlines += count_nl(&buf[..nin]);
        if nin > 0 {
            last = Some(buf[nin - 1]);
        }
        input.consume(nin);
        consumed += nin as u64;
        filled += nout;
        // The row the current record started on.
        let row = |newlines: u64, quoted: u64, ended_by_nl: bool| {
            usize::try_from((1 + newlines).saturating_sub(u64::from(ended_by_nl) + quoted))
                .unwrap_or(usize::MAX)
        };
        match res {
            csv_core::ReadFieldResult::InputEmpty => {
                if at_end {
                    return Ok(());
                }
            }
            csv_core::ReadFieldResult::OutputFull => {
                return Err(too_long(row(newlines, quoted, false), cells.len() + 1));
            }
            csv_core::ReadFieldResult::End => return Ok(()),
            csv_core::ReadFieldResult::Field { record_end } => {
                let value = &field[..filled];
                quoted += count_nl(value);
                if value.len() > MAX_CELL_CHARS
                    && String::from_utf8_lossy(value).chars().count() > MAX_CELL_CHARS
                {
                    return Err(too_long(row(newlines, quoted, false), cells.len() + 1));
                }
                if cells.len() >= MAX_COLUMNS as usize {
                    return Err(refuse(format!(
                        "Dòng {} có hơn {MAX_COLUMNS} cột: tệp CSV không hợp lệ hoặc dùng sai dấu phân cách.",
                        row(newlines, quoted, false)
                    )));
                }
                cells.push(csv_cell(value, scan.utf8));
                filled = 0;
                if record_end {
                    let n = row(newlines, quoted, last == Some(b'\n'));
                    if !sink(n, std::mem::take(&mut cells), consumed as f64 / len as f64) {
                        return Ok(());
                    }
                }
            }
        }
    }
}

fn too_long(row: usize, column: usize) -> StoreError {
    refuse(format!(
        "Dòng {row}, cột {column}: ô dài hơn {MAX_CELL_CHARS} ký tự (giới hạn của Excel)."
    ))
}

/// One csv field: UTF-8 or Windows-1258 (whose tones are combining marks), composed (NFC).
fn csv_cell(field: &[u8], utf8: bool) -> Cell {
    if field.iter().all(u8::is_ascii_whitespace) {
        return Cell::Empty;
    }
    if field.is_ascii() {
        return Cell::Text(String::from_utf8_lossy(field).into_owned());
    }
    let text = if utf8 {
        String::from_utf8_lossy(field)
    } else {
        encoding_rs::WINDOWS_1258
            .decode_without_bom_handling(field)
            .0
    };
    Cell::Text(domain::text::compose(&text))
}

/// Reads a whole (small) file: the first non-empty row is the headings. Runs on a blocking
/// thread, in turn with the other reads.
pub async fn read_sheet(file_name: &str, bytes: &[u8]) -> Result<Sheet> {
    read_sheet_from(file_name, &Source::bytes(bytes), MAX_FILE as u64).await
}

/// [`read_sheet`] from any source with its own size limit.
pub async fn read_sheet_from(file_name: &str, src: &Source, max: u64) -> Result<Sheet> {
    let permit = read_permit().await?;
    let (name, src) = (file_name.to_string(), src.clone());
    let sheet = tokio::task::spawn_blocking(move || read_sheet_now(&name, &src, max))
        .await
        .map_err(|e| StoreError::Internal(format!("file reader: {e}")))?;
    drop(permit);
    sheet
}

/// [`read_sheet_from`] on the calling thread.
fn read_sheet_now(file_name: &str, src: &Source, max: u64) -> Result<Sheet> {
    let mut sheet: Option<Sheet> = None;
    let (mut cells, mut text) = (0usize, 0usize);
    let mut too_big = false;
    each_row(file_name, src, max, &mut |n, row, _| {
        cells += row.len();
        text += text_len(&row);
        if cells > MAX_SHEET_CELLS || text > MAX_SHEET_TEXT {
            too_big = true;
            return false;
        }
        match &mut sheet {
            None => {
                sheet = Some(Sheet {
                    headings: row.iter().map(Cell::text).collect(),
                    rows: Vec::new(),
                })
            }
            Some(s) => s.rows.push((n, row)),
        }
        true
    })?;
    if too_big {
        return Err(refuse(format!(
            "Tệp quá lớn để đọc một lần (tối đa {} triệu ô, {} MB chữ). Hãy chia tệp thành nhiều tệp nhỏ hơn.",
            MAX_SHEET_CELLS / 1_000_000,
            MAX_SHEET_TEXT / (1024 * 1024)
        )));
    }
    sheet.ok_or_else(|| refuse("Tệp không có dữ liệu."))
}

/// Reads the file through without keeping it: the error a reader would meet, if any, and the
/// number of data rows.
pub async fn check_readable(file_name: &str, src: &Source, max: u64) -> Result<usize> {
    let permit = read_permit().await?;
    let (name, src) = (file_name.to_string(), src.clone());
    let rows = tokio::task::spawn_blocking(move || {
        let mut rows = 0usize;
        each_row(&name, &src, max, &mut |_, _, _| {
            rows += 1;
            true
        })
        .map(|()| rows)
    })
    .await
    .map_err(|e| StoreError::Internal(format!("file reader: {e}")))??;
    drop(permit);
    if rows == 0 {
        return Err(refuse("Tệp không có dữ liệu."));
    }
    Ok(rows - 1)
}

/// Rows handed over in chunks by a reader working on a blocking thread, a few chunks ahead
/// at most (so a large file never sits whole in memory, and reading overlaps the database).
pub struct RowStream {
    pub headings: Vec<String>,
    rx: mpsc::Receiver<Result<Message>>,
}

/// Rows read, and how far through the file they reach (0 to 1).
pub struct Chunk {
    pub rows: Vec<Row>,
    pub done: f64,
}

enum Message {
    Headings(Vec<Cell>),
    Rows(Chunk),
}

impl RowStream {
    /// Starts reading; answers once the headings are read (or the file is refused).
    pub async fn open(file_name: &str, src: &Source, max: u64) -> Result<RowStream> {
        let (tx, mut rx) = mpsc::channel::<Result<Message>>(4);
        let (name, src) = (file_name.to_string(), src.clone());
        // The turn is held by the reading thread until the file is read through or dropped.
        let permit = read_permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut rows = Vec::with_capacity(CHUNK_ROWS);
            let (mut cells, mut text) = (0usize, 0usize);
            let mut headings_sent = false;
            let result = each_row(&name, &src, max, &mut |n, row, done| {
                if !headings_sent {
                    headings_sent = true;
                    return tx.blocking_send(Ok(Message::Headings(row))).is_ok();
                }
                cells += row.len();
                text += text_len(&row);
                rows.push((n, row));
                if rows.len() < CHUNK_ROWS && cells < CHUNK_CELLS && text < CHUNK_TEXT {
                    return true;
                }
                (cells, text) = (0, 0);
                let rows = std::mem::replace(&mut rows, Vec::with_capacity(CHUNK_ROWS));
                tx.blocking_send(Ok(Message::Rows(Chunk { rows, done })))
                    .is_ok()
            });
            // A closed channel means the reader of the stream has stopped: nothing to tell.
            let _ = match result {
                Ok(()) if !rows.is_empty() => {
                    tx.blocking_send(Ok(Message::Rows(Chunk { rows, done: 1.0 })))
                }
                Ok(()) => Ok(()),
                Err(e) => tx.blocking_send(Err(e)),
            };
        });
        match rx.recv().await {
            Some(Ok(Message::Headings(head))) => Ok(RowStream {
                headings: head.iter().map(Cell::text).collect(),
                rx,
            }),
            Some(Err(e)) => Err(e),
            Some(Ok(Message::Rows(_))) | None => Err(refuse("Tệp không có dữ liệu.")),
        }
    }

    /// The next rows, `None` at the end of the file.
    pub async fn next(&mut self) -> Option<Result<Chunk>> {
        match self.rx.recv().await? {
            Ok(Message::Rows(c)) => Some(Ok(c)),
            Ok(Message::Headings(_)) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, bytes: &[u8]) -> Result<Sheet> {
        read_sheet_now(name, &Source::bytes(bytes), MAX_FILE as u64)
    }

    fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, c, v) in cells {
            sheet.write_string(*r, *c, *v).expect("cell");
        }
        book.save_to_buffer().expect("xlsx")
    }

    #[test]
    fn xlsx_rows_keep_their_spreadsheet_numbers() {
        let bytes = xlsx(&[
            (2, 1, "Họ và tên"),
            (3, 1, "Nguyễn Văn An"),
            (5, 0, "x"),
            (5, 1, "Lê Thị Bình"),
        ]);
        let sheet = read("a.xlsx", &bytes).expect("read");
        assert_eq!(
            sheet.headings,
            vec!["".to_string(), "Họ và tên".to_string()]
        );
        let numbers: Vec<usize> = sheet.rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![4, 6]);
        assert_eq!(sheet.rows[1].1[1], Cell::Text("Lê Thị Bình".into()));
    }

    /// A tiny file with a cell at the far corner of the sheet must not make the reader allocate
    /// every cell in between (16,384 columns × 1,048,576 rows).
    #[test]
    fn far_away_cells_are_refused_without_allocating_the_range() {
        let bytes = xlsx(&[(0, 0, "Họ và tên"), (1_048_575, 16_383, "x")]);
        assert!(bytes.len() < 20_000);
        let err = read("a.xlsx", &bytes).expect_err("refused");
        assert!(err.to_string().contains("quá xa"), "{err}");
    }

    /// A UTF-8 letter cut in two by the scanner's block boundary is still UTF-8; one byte of
    /// Windows-1258 anywhere makes the whole file Windows-1258.
    #[test]
    fn encoding_is_decided_over_the_whole_file() {
        let mut text = String::from("Họ và tên;Chi bộ\n");
        while text.len() < 262_000 {
            text.push_str("Nguyen Thi Anh;CB01\n");
        }
        // 'Á' takes two bytes: the first is the last byte of the scanner's first block.
        text.push_str(&"a".repeat(262_143 - text.len()));
        text.push_str("Ánh;CB01\n");
        let utf8 = Source::bytes(text.as_bytes());
        let scan = scan_text(utf8.open().expect("open")).expect("scan");
        assert!(scan.utf8 && !scan.has_nul);
        assert_eq!(scan.delimiter, b';');
        let sheet = read("a.csv", text.as_bytes()).expect("read");
        let last = &sheet.rows.last().expect("row").1;
        assert!(matches!(&last[0], Cell::Text(t) if t.ends_with("aÁnh")));

        let mut bytes = b"Ho va ten;Chi bo\n".to_vec();
        while bytes.len() < 600_000 {
            bytes.extend_from_slice(b"Nguyen Thi Anh;CB01\n");
        }
        bytes.extend_from_slice(b"L\xea Thi\xf2 Bi\xccnh;CB02\n");
        let sheet = read("a.csv", &bytes).expect("read 1258");
        let last = &sheet.rows.last().expect("row").1;
        assert_eq!(last[0], Cell::Text("Lê Thị Bình".into()));
        assert_eq!(sheet.rows[0].1[0], Cell::Text("Nguyen Thi Anh".into()));
    }

    /// The stream hands rows over in chunks, with their spreadsheet numbers, and all of them.
    #[tokio::test]
    async fn rows_stream_in_chunks() {
        let mut text = String::from("\nHọ và tên,Chi bộ\n");
        for i in 0..(CHUNK_ROWS * 2 + 5) {
            text.push_str(&format!("Người {i},CB01\n"));
            if i == 10 {
                text.push_str(",\n");
            }
        }
        let src = Source::bytes(text.as_bytes());
        let mut s = RowStream::open("a.csv", &src, u64::MAX)
            .await
            .expect("open");
        assert_eq!(s.headings, vec!["Họ và tên".to_string(), "Chi bộ".into()]);
        let mut numbers = Vec::new();
        let mut chunks = 0;
        while let Some(c) = s.next().await {
            let c = c.expect("chunk");
            assert!(c.rows.len() <= CHUNK_ROWS);
            chunks += 1;
            numbers.extend(c.rows.iter().map(|(n, _)| *n));
        }
        assert_eq!(chunks, 3);
        assert_eq!(numbers.len(), CHUNK_ROWS * 2 + 5);
        // Line 1 is blank, line 2 the headings, line 14 the blank row after "Người 10".
        assert_eq!(&numbers[..2], &[3, 4]);
        assert_eq!(numbers[11], 15);
        assert!(RowStream::open("a.csv", &Source::bytes(b"\n\n"), u64::MAX)
            .await
            .is_err());
    }

    #[test]
    fn binary_and_empty_files_are_refused() {
        let e = read("a.csv", b"abc\0def").expect_err("binary");
        assert!(e.to_string().contains("không phải"), "{e}");
        let e = read("a.xlsx", b"PK\x03\x04garbage").expect_err("broken zip");
        assert!(e.to_string().contains("hỏng"), "{e}");
        let e = read("a.csv", b"").expect_err("empty");
        assert!(e.to_string().contains("rỗng"), "{e}");
    }

    /// Issue 11.3: a CRLF file numbers its rows as the spreadsheet does (the first data row is
    /// row 2), blank lines count, a line end inside quotes does not.
    #[test]
    fn csv_rows_keep_spreadsheet_numbers_with_crlf_and_quotes() {
        for nl in ["\r\n", "\n"] {
            let text = [
                "Họ và tên,Ghi chú",
                "Nguyễn Văn An,a",
                "",
                "Lê Thị Bình,\"hai{nl}dòng\"",
                "Trần Văn Cường,c",
            ]
            .join(nl)
            .replace("{nl}", nl);
            let sheet = read("a.csv", text.as_bytes()).expect("read");
            let numbers: Vec<usize> = sheet.rows.iter().map(|(n, _)| *n).collect();
            assert_eq!(numbers, vec![2, 4, 5], "line ends {nl:?}");
            assert_eq!(sheet.rows[1].1[1], Cell::Text(format!("hai{nl}dòng")));
        }
    }

    /// Issue 10.4: a line of commas is refused at the 201st field, a huge field at its limit.
    #[test]
    fn csv_columns_and_fields_are_capped() {
        let commas = vec![b','; 5_000_000];
        let e = read("a.csv", &commas).expect_err("too many columns");
        assert!(e.to_string().contains("hơn 200 cột"), "{e}");
        let mut long = b"Ho va ten\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_CELL_CHARS + 1));
        let e = read("a.csv", &long).expect_err("too long");
        assert!(e.to_string().contains("Dòng 2, cột 1"), "{e}");
        let mut quoted = b"Ho va ten\n\"".to_vec();
        quoted.extend(std::iter::repeat_n(b'a', MAX_FIELD_BYTES * 2));
        let e = read("a.csv", &quoted).expect_err("too long quoted");
        assert!(e.to_string().contains("32767 ký tự"), "{e}");
        // 200 columns are fine.
        let ok = format!("{}\n", vec!["x"; 200].join(","));
        assert_eq!(
            read("a.csv", ok.as_bytes()).expect("200").headings.len(),
            200
        );
    }

    /// Issue 10.1: the guard refuses what calamine would hold whole, and lets ordinary files by.
    #[test]
    fn xlsx_bombs_are_refused_before_calamine_reads_them() {
        use crate::testing::bombs;
        let ok = read("a.xlsx", &bombs::ordinary()).expect("ordinary workbook");
        assert_eq!(ok.headings, vec!["Họ và tên".to_string()]);
        let e = read("a.xlsx", &bombs::one_huge_string(3 << 20)).expect_err("huge string");
        assert!(e.to_string().contains("bất thường"), "{e}");
        let e = read("a.xlsx", &bombs::many_strings(2_000_001)).expect_err("many strings");
        assert!(e.to_string().contains("quá nhiều chuỗi"), "{e}");
        let e = read("a.xlsx", &bombs::declared_count()).expect_err("declared count");
        assert!(e.to_string().contains("quá nhiều chuỗi"), "{e}");
    }
}
