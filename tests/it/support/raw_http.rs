//! A hostile HTTP/1.1 client on a raw socket: requests sent byte by byte as a test scripts
//! them (half-sent headers, endless chunked bodies, trickled bytes), answers read as they come.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How the server ended an exchange.
#[derive(Debug)]
pub struct Outcome {
    /// The status line's code, when the server answered.
    pub status: Option<u16>,
    /// Everything the server sent.
    pub response: String,
    /// Body bytes the client got to send before the server answered or closed.
    pub body_bytes_sent: u64,
    /// From the first byte sent to the answer (or the close).
    pub elapsed: Duration,
}

impl Outcome {
    /// The JSON error code of the answer's body.
    pub fn code(&self) -> Option<String> {
        let body = self.response.split("\r\n\r\n").nth(1)?;
        let start = body.find('{')?;
        let value: serde_json::Value = serde_json::from_str(&body[start..]).ok()?;
        value["code"].as_str().map(str::to_owned)
    }
}

/// `host:port` of a `http://host:port` URL.
pub fn authority(base_url: &str) -> String {
    base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// Connects to the service at `base_url`.
pub fn connect(base_url: &str) -> TcpStream {
    let stream = TcpStream::connect(authority(base_url)).expect("connecting to the service");
    stream.set_nodelay(true).unwrap();
    stream
}

/// Sends `head` (request line and headers, ending with the blank line), then body chunks from
/// `chunks` (each framed as a chunked-encoding chunk when `chunked`), until the server answers
/// or closes, or `chunks` runs out. Reads the answer on another thread as it arrives.
pub fn exchange(
    base_url: &str,
    head: &str,
    chunked: bool,
    chunks: impl Iterator<Item = Vec<u8>>,
) -> Outcome {
    let mut stream = connect(base_url);
    let reader = stream.try_clone().unwrap();
    let answered = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let seen = answered.clone();
    std::thread::spawn(move || {
        let mut reader = reader;
        reader
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut response = Vec::new();
        let mut buffer = [0_u8; 16 * 1024];
        loop {
            match reader.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    response.extend_from_slice(&buffer[..n]);
                    seen.store(true, Ordering::SeqCst);
                    if complete(&response) {
                        break;
                    }
                }
            }
        }
        seen.store(true, Ordering::SeqCst);
        let _ = tx.send((response, Instant::now()));
    });
    let started = Instant::now();
    let mut sent = 0_u64;
    let mut ok = stream.write_all(head.as_bytes()).is_ok();
    for chunk in chunks {
        if !ok || answered.load(Ordering::SeqCst) {
            break;
        }
        let framed = if chunked {
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            framed
        } else {
            chunk.clone()
        };
        ok = stream.write_all(&framed).is_ok();
        if ok {
            sent += chunk.len() as u64;
        }
    }
    let (response, at) = rx
        .recv_timeout(Duration::from_secs(150))
        .expect("the reader ends");
    let _ = stream.shutdown(Shutdown::Both);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Outcome {
        status,
        response,
        body_bytes_sent: sent,
        elapsed: at.saturating_duration_since(started),
    }
}

/// Whether `response` holds a whole head and a body of its `content-length`.
fn complete(response: &[u8]) -> bool {
    let text = String::from_utf8_lossy(response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    length.is_some_and(|length| body.len() >= length)
}

/// `total` bytes of `byte` in chunks of `size`, made as they are sent.
pub fn filler(byte: u8, total: u64, size: usize) -> impl Iterator<Item = Vec<u8>> {
    let count = total.div_ceil(size as u64);
    (0..count).map(move |i| {
        let left = total - i * size as u64;
        vec![byte; size.min(left as usize)]
    })
}
