//! A minimal blocking HTTP/1.1 keep-alive client: one connection per load thread, so the
//! generator itself costs little next to the server it measures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Socket read and write timeout: a server that stops answering fails the run, never hangs it.
const IO_TIMEOUT_MS: u64 = 30_000;
/// Largest response header block accepted.
const HEADER_BYTES_MAX: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed response: {0}")]
    Protocol(String),
}

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

pub struct Client {
    addr: String,
    auth: String,
    keep_alive: bool,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    pub fn new(addr: &str, auth_header: &str) -> Client {
        Client { addr: addr.to_string(), auth: auth_header.to_string(), keep_alive: true, conn: None }
    }

    /// Without keep-alive every request opens (and the server closes) a connection.
    pub fn with_keep_alive(mut self, keep_alive: bool) -> Client {
        self.keep_alive = keep_alive;
        self
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>, ClientError> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr).map_err(|source| ClientError::Connect { addr: self.addr.clone(), source })?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_millis(IO_TIMEOUT_MS)))?;
            s.set_write_timeout(Some(Duration::from_millis(IO_TIMEOUT_MS)))?;
            self.conn = Some(BufReader::with_capacity(64 * 1024, s));
        }
        self.conn.as_mut().ok_or_else(|| ClientError::Protocol("no connection".into()))
    }

    /// Sends one request and reads the whole response. On any error the connection is dropped
    /// and the next request opens a new one.
    pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Result<Response, ClientError> {
        let r = self.try_request(method, path, body);
        if r.is_err() {
            self.conn = None;
        }
        r
    }

    fn try_request(&mut self, method: &str, path: &str, body: &[u8]) -> Result<Response, ClientError> {
        let auth = if self.auth.is_empty() { String::new() } else { format!("Authorization: {}\r\n", self.auth) };
        let connection = if self.keep_alive { "keep-alive" } else { "close" };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
            self.addr,
            body.len()
        );
        let conn = self.connect()?;
        let mut msg = Vec::with_capacity(head.len() + body.len());
        msg.extend_from_slice(head.as_bytes());
        msg.extend_from_slice(body);
        conn.get_mut().write_all(&msg)?;
        let mut line = String::new();
        conn.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ClientError::Protocol(format!("bad status line {line:?}")))?;
        let (mut length, mut header_bytes, mut close) = (0usize, 0usize, false);
        loop {
            line.clear();
            let n = conn.read_line(&mut line)?;
            header_bytes += n;
            if n == 0 || header_bytes > HEADER_BYTES_MAX {
                return Err(ClientError::Protocol("truncated or oversized headers".into()));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().map_err(|_| ClientError::Protocol("bad content-length".into()))?;
                } else if k.eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        let mut body = vec![0; if method == "HEAD" || status == 304 { 0 } else { length }];
        conn.read_exact(&mut body)?;
        if close || !self.keep_alive {
            self.conn = None;
        }
        Ok(Response { status, body })
    }
}
