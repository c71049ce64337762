//! Follows a multipart body's framing as it streams past, so that the parts a multipart parser
//! would buffer whole (the preamble before the first boundary, each part's headers, the
//! epilogue) stay small. Part contents pass unbounded here: the parser's per-field limits and
//! the body's byte cap bound them.

use memchr::memmem;

/// Longest preamble before the first boundary.
pub const PREAMBLE_LIMIT: u64 = 64 * 1024;
/// Longest header block of one part (and longest epilogue after the closing boundary).
pub const PART_HEADERS_LIMIT: u64 = 16 * 1024;

const HEADERS_END: &[u8] = b"\r\n\r\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seeking {
    /// The first delimiter: what comes before it is the preamble.
    FirstDelimiter,
    /// The blank line ending a part's headers (after the closing delimiter: the epilogue).
    HeadersEnd,
    /// The delimiter ending a part's content.
    NextDelimiter,
}

/// The framing scanner of one multipart body.
#[derive(Debug)]
pub struct Framing {
    /// `CRLF "--" boundary`: every delimiter, the first one included since the scanner starts
    /// as if the body followed a CRLF.
    delimiter: Vec<u8>,
    seeking: Seeking,
    /// Bytes passed in the current segment without the sought pattern.
    segment: u64,
    /// The end of the bytes seen so far that may begin the sought pattern.
    carry: Vec<u8>,
}

impl Framing {
    /// A scanner for a body whose boundary is `boundary`.
    pub fn new(boundary: &str) -> Self {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Self {
            delimiter,
            seeking: Seeking::FirstDelimiter,
            segment: 0,
            carry: b"\r\n".to_vec(),
        }
    }

    /// Scans the next `chunk` of the body.
    ///
    /// # Errors
    /// What is wrong, for the client, when the preamble, a part's headers or the epilogue runs
    /// past its limit.
    pub fn scan(&mut self, chunk: &[u8]) -> Result<(), String> {
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        let mut at = 0;
        loop {
            let pattern: &[u8] = match self.seeking {
                Seeking::FirstDelimiter | Seeking::NextDelimiter => &self.delimiter,
                Seeking::HeadersEnd => HEADERS_END,
            };
            let rest = &window[at..];
            match memmem::find(rest, pattern) {
                Some(found) => {
                    self.segment += found as u64;
                    self.check()?;
                    at += found + pattern.len();
                    self.segment = 0;
                    self.seeking = match self.seeking {
                        Seeking::FirstDelimiter | Seeking::NextDelimiter => Seeking::HeadersEnd,
                        Seeking::HeadersEnd => Seeking::NextDelimiter,
                    };
                }
                None => {
                    let keep = (pattern.len() - 1).min(rest.len());
                    self.segment += (rest.len() - keep) as u64;
                    self.check()?;
                    self.carry = rest[rest.len() - keep..].to_vec();
                    return Ok(());
                }
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        match self.seeking {
            Seeking::FirstDelimiter if self.segment > PREAMBLE_LIMIT => Err(format!(
                "the form's first boundary did not come within its first {} KiB",
                PREAMBLE_LIMIT / 1024
            )),
            Seeking::HeadersEnd if self.segment > PART_HEADERS_LIMIT => Err(format!(
                "a part's headers (or the text after the closing boundary) ran past {} KiB",
                PART_HEADERS_LIMIT / 1024
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(boundary: &str, preamble: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body = preamble.as_bytes().to_vec();
        for (headers, content) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        body
    }

    fn scan_in_chunks(body: &[u8], boundary: &str, chunk: usize) -> Result<(), String> {
        let mut framing = Framing::new(boundary);
        body.chunks(chunk).try_for_each(|c| framing.scan(c))
    }

    #[test]
    fn a_well_formed_form_passes_in_chunks_of_every_size() {
        let big = vec![b'x'; 300 * 1024];
        let body = form(
            "XyZ",
            "",
            &[
                (
                    "Content-Disposition: form-data; name=\"title\"",
                    b"Crossover",
                ),
                (
                    "Content-Disposition: form-data; name=\"video_file\"; filename=\"a.mp4\"",
                    &big,
                ),
            ],
        );
        for chunk in [1, 2, 3, 7, 64, 4096, body.len()] {
            assert_eq!(
                scan_in_chunks(&body, "XyZ", chunk),
                Ok(()),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn a_body_without_its_boundary_is_refused_after_the_preamble_limit() {
        let junk = vec![b'a'; 200 * 1024];
        let error = scan_in_chunks(&junk, "XyZ", 8192).unwrap_err();
        assert!(error.contains("first boundary"), "{error}");
        let short_preamble = form(
            "XyZ",
            "hello\r\n",
            &[("Content-Disposition: form-data; name=\"t\"", b"v")],
        );
        assert_eq!(scan_in_chunks(&short_preamble, "XyZ", 5), Ok(()));
    }

    #[test]
    fn endless_part_headers_are_refused() {
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\nX-Pad: ".to_vec();
        body.extend(std::iter::repeat_n(b'p', 100 * 1024));
        let error = scan_in_chunks(&body, "XyZ", 1000).unwrap_err();
        assert!(error.contains("headers"), "{error}");
    }

    #[test]
    fn a_long_epilogue_after_the_closing_boundary_is_refused() {
        let mut body = form(
            "XyZ",
            "",
            &[("Content-Disposition: form-data; name=\"t\"", b"v")],
        );
        body.extend(std::iter::repeat_n(b'e', 100 * 1024));
        assert!(scan_in_chunks(&body, "XyZ", 4096).is_err());
    }
}
