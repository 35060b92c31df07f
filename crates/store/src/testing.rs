//! Hostile files for the tests of the upload guard (`import::guard`): zip bombs and sheets that
//! declare more than they hold. Fresh test databases are in the `fixtures` crate.

/// Hostile spreadsheets for the attack suite and the memory tests (issue 10): each is a valid
/// xlsx that calamine would open, and small on the wire.
pub mod bombs {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;

    /// An xlsx whose one sheet refers to shared string 0, with `shared` streamed as the
    /// shared-string part (`sst` element included) by the writer function.
    fn workbook(shared: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>) -> Vec<u8> {
        let parts: [(&str, &str); 5] = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
            ),
            (
                "xl/worksheets/sheet1.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>"#,
            ),
        ];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        for (name, body) in parts {
            zip.start_file(name, opts).expect("zip part");
            zip.write_all(body.as_bytes()).expect("zip write");
        }
        // The best compression, as an attacker would use (about 1,000 to 1).
        zip.start_file("xl/sharedStrings.xml", opts.compression_level(Some(9)))
            .expect("zip part");
        shared(&mut zip).expect("shared strings");
        zip.finish().expect("zip").into_inner()
    }

    const SST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

    /// One shared string of `len` bytes (the 1.5 GB string of issue 10 is 1.5 MB on the wire).
    pub fn one_huge_string(len: usize) -> Vec<u8> {
        workbook(&mut |w| {
            w.write_all(SST.as_bytes())?;
            w.write_all(b"<si><t>")?;
            let block = vec![b'a'; 1 << 20];
            let mut left = len;
            while left > 0 {
                let n = left.min(block.len());
                w.write_all(&block[..n])?;
                left -= n;
            }
            w.write_all(b"</t></si></sst>")
        })
    }

    /// `n` tiny shared strings (20 million fit in under a megabyte).
    pub fn many_strings(n: usize) -> Vec<u8> {
        workbook(&mut |w| {
            w.write_all(SST.as_bytes())?;
            let block = b"<si><t>a</t></si>".repeat(4096);
            let mut left = n;
            while left > 0 {
                let k = left.min(4096);
                w.write_all(&block[..k * 17])?;
                left -= k;
            }
            w.write_all(b"</sst>")
        })
    }

    /// A table that declares a trillion strings (calamine reserves room for the declared count).
    pub fn declared_count() -> Vec<u8> {
        workbook(&mut |w| {
            w.write_all(
                SST.replace("<sst ", r#"<sst uniqueCount="1000000000000" "#)
                    .as_bytes(),
            )?;
            w.write_all(b"<si><t>a</t></si></sst>")
        })
    }

    /// An ordinary small workbook of the same shape, which must be read.
    pub fn ordinary() -> Vec<u8> {
        workbook(&mut |w| {
            w.write_all(SST.as_bytes())?;
            w.write_all("<si><t>Họ và tên</t></si></sst>".as_bytes())
        })
    }
}
